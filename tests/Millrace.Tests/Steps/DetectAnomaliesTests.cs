using System.Globalization;
using System.Text;
using System.Text.Json;
using Millrace.Storage;
using Millrace.Tests.TestSupport;
using Xunit.Abstractions;

namespace Millrace.Tests.Steps;

/// <summary>Seeded business data with known anomalies, and helpers to run a detect_anomalies workflow and read what it found.</summary>
static class DetectAnomaliesData
{
    public static readonly DateOnly FirstDay = new(2026, 1, 1);
    public static readonly string[] Regions = ["North", "South", "West"];
    static readonly double[] Base = [10_000, 6_000, 3_000];

    /// <summary>
    /// <c>sale_id, region, sold_at (TIMESTAMP), amount</c>: <paramref name="days"/> days from <see cref="FirstDay"/>,
    /// three sales a day per region whose daily sum is the region's base ±5% (uniform noise).
    /// Each spike multiplies one region's day: (region, day index, factor).
    /// </summary>
    public static string Sales(int days, params (string Region, int Day, double Factor)[] spikes) =>
        SalesOfSeeds(days, [7], spikes);

    /// <summary>
    /// <see cref="Sales"/> for several noise seeds at once: regions are named <c>North_s3</c>, … (one series per seed and
    /// region) when there is more than one seed; each seed's series get the same spikes.
    /// </summary>
    public static string SalesOfSeeds(int days, IReadOnlyList<int> seeds, params (string Region, int Day, double Factor)[] spikes)
    {
        var csv = new StringBuilder("sale_id,region,sold_at,amount\n");
        var id = 0;
        foreach (var seed in seeds)
        {
            var random = new Random(seed);
            for (var day = 0; day < days; day++)
                for (var r = 0; r < Regions.Length; r++)
                {
                    var total = Base[r] * (1 + (random.NextDouble() * 2 - 1) * 0.05);
                    var factor = spikes.Where(s => s.Region == Regions[r] && s.Day == day).Select(s => s.Factor).DefaultIfEmpty(1).Single();
                    var region = seeds.Count == 1 ? Regions[r] : $"{Regions[r]}_s{seed}";
                    for (var sale = 0; sale < 3; sale++)
                    {
                        var at = FirstDay.AddDays(day).ToDateTime(new TimeOnly(9 + sale * 4, random.Next(60)));
                        csv.Append(CultureInfo.InvariantCulture, $"{++id},{region},{at:yyyy-MM-dd HH:mm:ss},{Math.Round(total * factor / 3, 2)}\n");
                    }
                }
        }
        return csv.ToString();
    }

    /// <summary><c>day (DATE), orders</c>: about 1,000 orders on weekdays and 3,000 on Saturdays and Sundays (±3%).</summary>
    public static string WeeklyOrders(int days, int spikeDay = -1)
    {
        var random = new Random(11);
        var csv = new StringBuilder("day,orders\n");
        for (var i = 0; i < days; i++)
        {
            var day = FirstDay.AddDays(i);
            var level = day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 3_000 : 1_000;
            var orders = Math.Round(level * (1 + (random.NextDouble() * 2 - 1) * 0.03) * (i == spikeDay ? 2 : 1));
            csv.Append(CultureInfo.InvariantCulture, $"{day:yyyy-MM-dd},{orders}\n");
        }
        return csv.ToString();
    }

    /// <summary>
    /// <c>id, segment, x1..x5</c>: <paramref name="rows"/> rows whose five features are noisy mixtures of two hidden
    /// factors (so they lie near a plane), except <paramref name="outliers"/> rows at known ids whose features are
    /// drawn independently (values of the usual size, but unlike any mixture). Three ordinary rows miss x3.
    /// </summary>
    public static (string Csv, HashSet<long> OutlierIds) CorrelatedRows(int rows, int outliers)
    {
        var random = new Random(3);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var outlierIds = new HashSet<long>();
        while (outlierIds.Count < outliers) outlierIds.Add(random.Next(1, rows + 1));
        var csv = new StringBuilder("id,segment,x1,x2,x3,x4,x5\n");
        for (var id = 1; id <= rows; id++)
        {
            double[] x;
            if (outlierIds.Contains(id)) x = [.. Enumerable.Range(0, 5).Select(_ => Normal() * 1.5)];
            else
            {
                double z1 = Normal(), z2 = Normal();
                x = [z1, 0.8 * z1 + 0.6 * z2, z2, 0.5 * z1 - 0.5 * z2, -0.7 * z1 + 0.3 * z2];
                for (var i = 0; i < x.Length; i++) x[i] = x[i] * 10 + 50 + Normal() * 0.1 * 10;
            }
            if (outlierIds.Contains(id)) for (var i = 0; i < x.Length; i++) x[i] = x[i] * 10 + 50;
            var values = x.Select(v => Math.Round(v, 3).ToString(CultureInfo.InvariantCulture)).ToArray();
            if (!outlierIds.Contains(id) && id % 700 == 0) values[2] = "";
            csv.Append(CultureInfo.InvariantCulture, $"{id},{(id % 2 == 0 ? "retail" : "online")},{string.Join(',', values)}\n");
        }
        return (csv.ToString(), outlierIds);
    }

    public static DateOnly Day(int index) => FirstDay.AddDays(index);

    /// <summary>A workflow: read <paramref name="csv"/>, detect anomalies with <paramref name="options"/>, write the output to out/found.parquet.</summary>
    public static TestProject DetectWorkflow(this TestProject project, string csv, string options) => project.Workflow("detect", $"""
        name: detect
        steps:
          - id: data
            type: read
            path: {csv}
          - id: found
            type: detect_anomalies
            input: data
        {string.Join("\n", options.ReplaceLineEndings("\n").Trim('\n').Split('\n').Select(line => "    " + line))}
          - id: out
            type: write
            input: found
            path: out/found.parquet
        """);

    public static async Task<Run> RunSucceededAsync(this TestProject project)
    {
        var run = await project.RunAsync("detect");
        Assert.True(run.Status == RunStatus.Succeeded, $"run {run.Status}: {run.Error}");
        return run;
    }

    /// <summary>Rows of the step's output as written to out/found.parquet; <c>{found}</c> in the query stands for it.</summary>
    public static IReadOnlyList<object?[]> Found(this TestProject project, string query) =>
        TestProject.Query(query.Replace("{found}", $"read_parquet('{project.LakePath("out/found.parquet")}')", StringComparison.Ordinal));

    public static async Task<IReadOnlyList<Anomaly>> AnomaliesAsync(this TestProject project, string runId) =>
        await (await project.StoreAsync()).FindAnomaliesAsync(runId, new Page(0, 1000), CancellationToken.None);

    public static JsonElement Details(this Anomaly anomaly) => JsonDocument.Parse(anomaly.DetailsJson!).RootElement;
}

/// <summary>method: timeseries — the rolling median/MAD detector.</summary>
public sealed class DetectAnomaliesTimeSeriesTests(ITestOutputHelper output) : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    const string Revenue = """
        method: timeseries
        time: sold_at
        value: amount
        group_by: [region]
        """;

    [Fact]
    public async Task Exactly_the_injected_spikes_are_flagged_and_only_the_latest_is_recorded()
    {
        // One noise draw (seed 7). How often other draws raise early false alarms is measured by
        // Across_ninety_noisy_series_every_spike_is_flagged_and_false_alarms_need_a_short_history.
        _project.LakeFile("raw/sales.csv", DetectAnomaliesData.Sales(60, ("North", 20, 3.0), ("South", 40, 0.3), ("West", 59, 2.5)));
        _project.DetectWorkflow("raw/sales.csv", Revenue);

        var run = await _project.RunSucceededAsync();

        var flagged = _project.Found("SELECT region, bucket FROM {found} WHERE is_anomaly ORDER BY bucket");
        Assert.Equal([["North", DetectAnomaliesData.Day(20)], ["South", DetectAnomaliesData.Day(40)], ["West", DetectAnomaliesData.Day(59)]], flagged);
        // One row per region and day, the day's sum, with the columns the docs promise.
        Assert.Equal([[180L, 3L, 60L]], _project.Found("SELECT count(*), count(DISTINCT region), count(DISTINCT bucket) FROM {found}"));
        Assert.Equal(["region", "bucket", "value", "median", "mad", "score", "is_anomaly"], _project.Found("SELECT column_name FROM (DESCRIBE SELECT * FROM {found})").Select(r => (string)r[0]!));
        var north20 = _project.Found($"SELECT value, median, score FROM {{found}} WHERE region = 'North' AND bucket = DATE '{DetectAnomaliesData.Day(20):yyyy-MM-dd}'").Single();
        Assert.InRange((double)north20[0]!, 28_000, 32_000);
        Assert.InRange((double)north20[1]!, 9_500, 10_500);
        Assert.True((double)north20[2]! > 20, $"score {north20[2]}");
        Assert.True((double)_project.Found($"SELECT score FROM {{found}} WHERE region = 'South' AND bucket = DATE '{DetectAnomaliesData.Day(40):yyyy-MM-dd}'")[0][0]! < -3.5, "a drop scores below -threshold");

        var anomaly = Assert.Single(await _project.AnomaliesAsync(run.Id));
        output.WriteLine(anomaly.Message);
        Assert.Equal(("timeseries", AnomalySeverity.Warning, "warn", "found"), (anomaly.Kind, anomaly.Severity, anomaly.Policy, anomaly.StepId));
        Assert.Contains("region=West on 2026-03-01", anomaly.Message);
        var details = anomaly.Details();
        Assert.Equal("West", details.GetProperty("group").GetProperty("region").GetString());
        Assert.Equal("2026-03-01", details.GetProperty("bucket").GetString());
        Assert.Equal("sum of amount", details.GetProperty("measure").GetString());
        Assert.InRange(details.GetProperty("value").GetDouble() / details.GetProperty("median").GetDouble(), 2.2, 2.8);
        Assert.True(details.GetProperty("score").GetDouble() > 3.5);
    }

    [Fact]
    public async Task Across_ninety_noisy_series_every_spike_is_flagged_and_false_alarms_need_a_short_history()
    {
        // 30 noise seeds x 3 regions, each with the same 3 spikes, in one run with the default options.
        var seeds = Enumerable.Range(1, 30).ToList();
        _project.LakeFile("raw/sales.csv", DetectAnomaliesData.SalesOfSeeds(60, seeds, ("North", 20, 3.0), ("South", 40, 0.3), ("West", 59, 2.5)));
        _project.DetectWorkflow("raw/sales.csv", Revenue);

        await _project.RunSucceededAsync();

        var spikes = new HashSet<(string, int)> { ("North", 20), ("South", 40), ("West", 59) };
        var flagged = _project.Found($"SELECT split_part(region, '_', 1), CAST(bucket - DATE '{DetectAnomaliesData.FirstDay:yyyy-MM-dd}' AS INTEGER) FROM {{found}} WHERE is_anomaly")
            .Select(r => ((string)r[0]!, (int)r[1]!)).ToList();
        var found = flagged.Count(spikes.Contains);
        var falseAlarms = flagged.Where(f => !spikes.Contains(f)).Select(f => f.Item2).ToList();
        var scored = (long)_project.Found("SELECT count(score) FROM {found}")[0][0]! - found;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"90 series, 60 days, defaults (window 28, min_history 7, threshold 3.5): {found} of 90 spikes flagged; {falseAlarms.Count} false alarms in {scored} other scored buckets ({(double)falseAlarms.Count / scored:P2}), on days {string.Join(", ", falseAlarms.Order())}"));
        Assert.Equal(90, found);
        // The MAD of a handful of earlier days is itself noisy: false alarms happen early in a series' life (hence
        // min_history), and none once three weeks of history are there.
        Assert.All(falseAlarms, day => Assert.True(day < 21, $"false alarm on day {day}"));
        Assert.True(falseAlarms.Count < scored / 100, $"{falseAlarms.Count} false alarms");
    }

    [Fact]
    public async Task Report_all_records_every_flagged_bucket()
    {
        _project.LakeFile("raw/sales.csv", DetectAnomaliesData.Sales(60, ("North", 20, 3.0), ("South", 40, 0.3), ("West", 59, 2.5)));
        _project.DetectWorkflow("raw/sales.csv", Revenue + "\nreport: all");

        var run = await _project.RunSucceededAsync();

        var anomalies = await _project.AnomaliesAsync(run.Id);
        Assert.Equal(["North 2026-01-21", "South 2026-02-10", "West 2026-03-01"],
            anomalies.Select(a => $"{a.Details().GetProperty("group").GetProperty("region").GetString()} {a.Details().GetProperty("bucket").GetString()}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_series_without_spikes_records_nothing()
    {
        _project.LakeFile("raw/sales.csv", DetectAnomaliesData.Sales(60));
        _project.DetectWorkflow("raw/sales.csv", Revenue);

        var run = await _project.RunSucceededAsync();

        Assert.Empty(await _project.AnomaliesAsync(run.Id));
        Assert.Equal([[0L]], _project.Found("SELECT count(*) FROM {found} WHERE is_anomaly"));
        Assert.Equal(0L, (await _project.StepRunAsync(run.Id, "found")).DetailsJson is { } json ? JsonDocument.Parse(json).RootElement.GetProperty("flagged").GetInt64() : -1);
    }

    [Fact]
    public async Task A_weekly_pattern_is_flagged_without_seasonality_and_not_with_it()
    {
        // Sixteen weeks: weekends are three times a weekday; the last day, a Tuesday, doubles.
        _project.LakeFile("raw/orders.csv", DetectAnomaliesData.WeeklyOrders(111, spikeDay: 110));
        Assert.Equal(DayOfWeek.Tuesday, DetectAnomaliesData.Day(110).DayOfWeek);
        _project.DetectWorkflow("raw/orders.csv", """
            method: timeseries
            time: day
            value: orders
            """);

        await _project.RunSucceededAsync();
        var flaggedPlain = _project.Found("SELECT bucket FROM {found} WHERE is_anomaly ORDER BY bucket").Select(r => (DateOnly)r[0]!).ToList();

        _project.DetectWorkflow("raw/orders.csv", """
            method: timeseries
            time: day
            value: orders
            seasonal: weekly
            """);
        var run = await _project.RunSucceededAsync();
        var flaggedWeekly = _project.Found("SELECT bucket FROM {found} WHERE is_anomaly ORDER BY bucket").Select(r => (DateOnly)r[0]!).ToList();

        // Without seasonality every weekend day after the first few is "unusual".
        var weekends = Enumerable.Range(14, 97).Select(DetectAnomaliesData.Day).Where(d => d.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday).ToHashSet();
        Assert.Subset(flaggedPlain.ToHashSet(), weekends);
        Assert.True(flaggedPlain.Count > 25, $"flagged {flaggedPlain.Count}");
        // Compared with the same weekday, only the real spike stands out.
        Assert.Equal([DetectAnomaliesData.Day(110)], flaggedWeekly);
        var anomaly = Assert.Single(await _project.AnomaliesAsync(run.Id));
        Assert.Contains("earlier Tuesdays", anomaly.Message);
        // A day is compared with days of the same weekday only: the first Monday scored is the 8th (7 Mondays before it).
        Assert.Equal([[DetectAnomaliesData.Day(4 + 7 * 7)]], _project.Found("SELECT min(bucket) FROM {found} WHERE score IS NOT NULL AND dayofweek(bucket) = 1"));
    }

    [Fact]
    public async Task A_bucket_with_less_than_min_history_is_not_scored()
    {
        // A spike on the 7th day: with the default min_history (7) it has too little history to be judged.
        _project.LakeFile("raw/sales.csv", DetectAnomaliesData.Sales(30, ("North", 6, 4.0)));
        _project.DetectWorkflow("raw/sales.csv", Revenue + "\nreport: all");

        var run = await _project.RunSucceededAsync();

        Assert.Empty(await _project.AnomaliesAsync(run.Id));
        Assert.Equal([[23 * 3L]], _project.Found("SELECT count(score) FROM {found}"));
        Assert.Equal([[DetectAnomaliesData.Day(7)]], _project.Found("SELECT min(bucket) FROM {found} WHERE score IS NOT NULL"));

        _project.DetectWorkflow("raw/sales.csv", Revenue + "\nreport: all\nmin_history: 5");
        run = await _project.RunSucceededAsync();

        // With less history the spike is judged (so, on 5 or 6 days of noise, may be an ordinary day: that is what
        // the default guards against); no bucket with fewer than 5 earlier days is.
        var anomalies = await _project.AnomaliesAsync(run.Id);
        var spike = Assert.Single(anomalies, a => a.Details().GetProperty("group").GetProperty("region").GetString() == "North");
        Assert.Equal(("2026-01-07", 6), (spike.Details().GetProperty("bucket").GetString(), spike.Details().GetProperty("history").GetInt32()));
        Assert.All(anomalies, a => Assert.True(a.Details().GetProperty("history").GetInt32() >= 5));
        Assert.Equal([[DetectAnomaliesData.Day(5)]], _project.Found("SELECT min(bucket) FROM {found} WHERE score IS NOT NULL"));
    }

    [Fact]
    public async Task An_empty_input_gives_an_empty_output_and_no_anomaly()
    {
        _project.LakeFile("raw/sales.csv", DetectAnomaliesData.Sales(10));
        _project.Workflow("detect", """
            name: detect
            steps:
              - id: data
                type: read
                path: raw/sales.csv
              - id: none
                type: sql
                input: data
                sql: SELECT * FROM data WHERE FALSE
              - id: found
                type: detect_anomalies
                input: none
                method: timeseries
                time: sold_at
                value: amount
                group_by: region
                on_anomaly: fail
              - id: out
                type: write
                input: found
                path: out/found.parquet
            """);

        var run = await _project.RunSucceededAsync();

        Assert.Equal([[0L]], _project.Found("SELECT count(*) FROM {found}"));
        Assert.Empty(await _project.AnomaliesAsync(run.Id));
    }

    [Fact]
    public async Task A_flat_series_flags_any_change_and_counts_rows_per_week()
    {
        // Every week has 5 rows, except the last, which has 6: MAD is 0, so the change scores as infinite.
        var csv = new StringBuilder("at\n");
        for (var week = 0; week < 12; week++)
            for (var row = 0; row < (week == 11 ? 6 : 5); row++)
                csv.Append(CultureInfo.InvariantCulture, $"{new DateOnly(2026, 1, 5).AddDays(week * 7 + row):yyyy-MM-dd} 10:00:00\n");
        _project.LakeFile("raw/logins.csv", csv.ToString());
        _project.DetectWorkflow("raw/logins.csv", """
            method: timeseries
            time: at
            bucket: week
            aggregate: count
            """);

        var run = await _project.RunSucceededAsync();

        Assert.Equal([[12L, 1L]], _project.Found("SELECT count(*), count(*) FILTER (WHERE is_anomaly) FROM {found}"));
        Assert.Equal([[new DateOnly(2026, 3, 23), 6.0, 5.0, 0.0, double.PositiveInfinity]],
            _project.Found("SELECT bucket, value, median, mad, score FROM {found} WHERE is_anomaly"));
        var anomaly = Assert.Single(await _project.AnomaliesAsync(run.Id));
        output.WriteLine(anomaly.Message);
        Assert.Equal(JsonValueKind.Null, anomaly.Details().GetProperty("score").ValueKind);
        Assert.Contains("count of rows on 2026-03-23 is 6, while the 11 earlier weeks were all 5 (MAD 0)", anomaly.Message);
    }
}
