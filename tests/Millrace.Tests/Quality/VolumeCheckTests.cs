using System.Globalization;
using System.Text;
using Millrace.Storage;
using Millrace.Tests.TestSupport;
using static Millrace.Tests.Quality.QualityProject;

namespace Millrace.Tests.Quality;

/// <summary>
/// The volume rule: the batch's row count against the batches earlier runs of the same step took (robust z-score on
/// median and MAD), run day after day with <c>--var run.date=…</c>. Covers spikes and drops, robustness to an earlier
/// spike, min_history, min_change, the weekday season, and quarantine of the whole batch.
/// </summary>
public sealed class VolumeCheckTests : IAsyncLifetime
{
    static readonly DateOnly Monday = new(2026, 1, 5);
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    void Workflow(string volumeRules, string policy = "warn") => _project.Workflow("ingest", $"""
        name: ingest
        steps:
          - id: events
            type: read
            path: raw/events/dt=${"{"}run.date{"}"}/*.csv
        {volumeRules}
            on_failure: {policy}
          - id: out
            type: write
            input: events
            path: out/events/dt=${"{"}run.date{"}"}/
        """);

    static string VolumeStep(string id, string options) => $"""
          - id: {id}
            type: check
            input: events
            expect:
              - volume: {options}
        """;

    /// <summary>Lands <paramref name="rows"/> events for <paramref name="day"/> and runs the workflow for that date.</summary>
    async Task<Run> DayAsync(DateOnly day, int rows)
    {
        var csv = new StringBuilder("event_id,amount\n");
        for (var i = 0; i < rows; i++) csv.Append(CultureInfo.InvariantCulture, $"{i},{i % 10}\n");
        _project.LakeFile($"raw/events/dt={day:yyyy-MM-dd}/events.csv", csv.ToString());
        return await _project.RunOkAsync("ingest", ("run.date", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
    }

    async Task<IReadOnlyList<Anomaly>> VolumeAnomaliesAsync(Run run, string step = "volume") =>
        (await _project.AnomaliesOfAsync(run.Id)).Where(a => a.StepId == step).ToList();

    [Fact]
    public async Task A_spike_against_earlier_batches_is_a_volume_anomaly_and_an_earlier_spike_does_not_mask_the_next_day()
    {
        Workflow(VolumeStep("volume", "{ min_history: 5 }"));
        int[] history = [100, 96, 104, 98, 102]; // median 100, MAD 2
        for (var d = 0; d < history.Length; d++)
            Assert.Empty(await VolumeAnomaliesAsync(await DayAsync(Monday.AddDays(d), history[d])));

        var spike = await DayAsync(Monday.AddDays(5), 300);

        var anomaly = Assert.Single(await VolumeAnomaliesAsync(spike));
        Assert.Equal(("volume", AnomalySeverity.Warning, "warn"), (anomaly.Kind, anomaly.Severity, anomaly.Policy));
        Assert.Equal("volume: 300 row(s) against a median of 100 over 5 earlier batch(es) (robust z 67.5, change 200 %)", anomaly.Message);
        var extra = DetailsOf(anomaly).GetProperty("extra");
        Assert.Equal((100.0, 2.0, 5), (extra.GetProperty("median").GetDouble(), extra.GetProperty("mad").GetDouble(), extra.GetProperty("history").GetInt32()));
        Assert.Equal(67.45, extra.GetProperty("z").GetDouble(), 6);
        Assert.Equal(300, DetailsOf(anomaly).GetProperty("batch_rows").GetInt64());
        // warn: the batch goes on.
        Assert.Equal(300L, Long(_project.QueryLake("SELECT count(*) FROM {file}", "out/events/dt=2026-01-10/part-0.parquet")[0][0]));

        // The next day is normal: the spike in the history moves the median to 101 and the MAD to 3, not more.
        Assert.Empty(await VolumeAnomaliesAsync(await DayAsync(Monday.AddDays(6), 103)));
    }

    [Fact]
    public async Task A_drop_is_a_volume_anomaly_too()
    {
        Workflow(VolumeStep("volume", "{ min_history: 3 }"));
        foreach (var (rows, d) in new[] { 200, 190, 210 }.Select((r, i) => (r, i))) await DayAsync(Monday.AddDays(d), rows);

        var drop = await DayAsync(Monday.AddDays(3), 20);

        var anomaly = Assert.Single(await VolumeAnomaliesAsync(drop));
        Assert.True(DetailsOf(anomaly).GetProperty("extra").GetProperty("z").GetDouble() < -3.5, anomaly.Message);
        Assert.Contains("change 90 %", anomaly.Message);
    }

    [Fact]
    public async Task The_threshold_decides_how_far_is_too_far()
    {
        // median 100, MAD 2: 110 rows is a robust z of 3.37 (then median 101, MAD 2: 115 rows is 4.72).
        Workflow(VolumeStep("volume", "{ min_history: 3, min_change: 0.05 }") + "\n    on_failure: warn\n" + VolumeStep("strict", "{ min_history: 3, min_change: 0.05, threshold: 3 }"));
        foreach (var (rows, d) in new[] { 98, 100, 102 }.Select((r, i) => (r, i))) await DayAsync(Monday.AddDays(d), rows);

        var run = await DayAsync(Monday.AddDays(3), 110);

        Assert.Empty(await VolumeAnomaliesAsync(run));
        Assert.Single(await VolumeAnomaliesAsync(run, "strict"));
        Assert.Single(await VolumeAnomaliesAsync(await DayAsync(Monday.AddDays(4), 115)));
    }

    [Fact]
    public async Task No_anomaly_before_min_history_earlier_batches_default_seven()
    {
        Workflow(VolumeStep("volume", "{ threshold: 3.5 }"));
        int[] history = [100, 96, 104, 98, 102, 100];
        for (var d = 0; d < history.Length; d++) await DayAsync(Monday.AddDays(d), history[d]);

        var tooEarly = await DayAsync(Monday.AddDays(6), 500);   // 6 earlier batches
        var judged = await DayAsync(Monday.AddDays(7), 500);     // 7 earlier batches, one of them the first 500

        Assert.Empty(await VolumeAnomaliesAsync(tooEarly));
        var anomaly = Assert.Single(await VolumeAnomaliesAsync(judged));
        Assert.Contains("against a median of 100 over 7 earlier batch(es)", anomaly.Message);
    }

    [Fact]
    public async Task Min_change_ignores_small_changes_even_when_the_history_never_varies()
    {
        // A constant history has a MAD of 0: every difference is infinitely far in z; min_change keeps 5% quiet.
        Workflow(VolumeStep("volume", "{ min_history: 3 }") + "\n    on_failure: warn\n" + VolumeStep("sensitive", "{ min_history: 3, min_change: 0.01 }"));
        for (var d = 0; d < 3; d++) await DayAsync(Monday.AddDays(d), 100);

        var small = await DayAsync(Monday.AddDays(3), 105);

        Assert.Empty(await VolumeAnomaliesAsync(small));
        var anomaly = Assert.Single(await VolumeAnomaliesAsync(small, "sensitive"));
        Assert.Contains("against a median of 100 over 3 earlier batch(es)", anomaly.Message);
        Assert.Contains("change 5 %", anomaly.Message);
        // JSON has no infinity: the robust z against a history that never varied is recorded as null.
        Assert.Equal(System.Text.Json.JsonValueKind.Null, DetailsOf(anomaly).GetProperty("extra").GetProperty("z").ValueKind);
        Assert.Equal(0, DetailsOf(anomaly).GetProperty("extra").GetProperty("mad").GetDouble());

        var large = await DayAsync(Monday.AddDays(4), 130);
        Assert.Single(await VolumeAnomaliesAsync(large));
    }

    [Fact]
    public async Task The_weekday_season_compares_a_day_with_the_same_weekday_only()
    {
        // Mondays are busy (about 300 events), Tuesdays and Wednesdays quiet (about 100).
        Workflow(VolumeStep("volume", "{ min_history: 3 }") + "\n    on_failure: warn\n" + VolumeStep("weekly", "{ min_history: 3, seasonal: weekday }"));
        int[][] weeks = [[300, 100, 102], [310, 104, 98], [290, 96, 100]];
        for (var week = 0; week < weeks.Length; week++)
            for (var day = 0; day < 3; day++)
                await DayAsync(Monday.AddDays(7 * week + day), weeks[week][day]);

        var busyMonday = await DayAsync(Monday.AddDays(21), 305);
        Assert.Single(await VolumeAnomaliesAsync(busyMonday));          // against every day, a Monday looks like a spike
        Assert.Empty(await VolumeAnomaliesAsync(busyMonday, "weekly"));  // against Mondays, it is ordinary

        var busyTuesday = await DayAsync(Monday.AddDays(22), 300);
        var anomaly = Assert.Single(await VolumeAnomaliesAsync(busyTuesday, "weekly"));
        Assert.Contains("against a median of 100 over 3 earlier batch(es) on the same weekday", anomaly.Message);
    }

    [Fact]
    public async Task Weekday_season_waits_for_min_history_on_that_weekday()
    {
        Workflow(VolumeStep("weekly", "{ min_history: 2, seasonal: weekday }"));
        for (var d = 0; d < 7; d++) await DayAsync(Monday.AddDays(d), 100); // one of each weekday

        var secondMonday = await DayAsync(Monday.AddDays(7), 400);  // 7 earlier batches, but one earlier Monday: not judged
        Assert.Empty(await VolumeAnomaliesAsync(secondMonday, "weekly"));

        await DayAsync(Monday.AddDays(14), 100);
        var fourthMonday = await DayAsync(Monday.AddDays(21), 400);  // Mondays 100, 400, 100: median 100
        Assert.Contains("median of 100 over 3 earlier batch(es) on the same weekday", Assert.Single(await VolumeAnomaliesAsync(fourthMonday, "weekly")).Message);
    }

    [Fact]
    public async Task A_volume_anomaly_under_quarantine_quarantines_the_whole_batch()
    {
        Workflow(VolumeStep("volume", "{ min_history: 2 }"), "quarantine");
        _project.Workflow("ingest", File.ReadAllText(Path.Combine(_project.Directory, "workflows/ingest.yaml")).Replace("  - id: out\n    type: write\n    input: events", "  - id: out\n    type: write\n    input: volume", StringComparison.Ordinal));
        await DayAsync(Monday, 10);
        await DayAsync(Monday.AddDays(1), 10);

        var spike = await DayAsync(Monday.AddDays(2), 50);

        Assert.Equal([(50L, "volume")], _project.QueryLake("SELECT count(*), any_value(_reason) FROM {file}", $"quarantine/volume/{spike.Id}/volume.parquet").Select(r => (Long(r[0]), (string)r[1]!)));
        Assert.Equal(0L, Long(_project.QueryLake("SELECT count(*) FROM {file}", "out/events/dt=2026-01-07/part-0.parquet")[0][0]));
        Assert.Equal(AnomalySeverity.Warning, Assert.Single(await VolumeAnomaliesAsync(spike)).Severity);
    }

    [Fact]
    public async Task A_volume_anomaly_under_fail_stops_the_run()
    {
        Workflow(VolumeStep("volume", "{ min_history: 2 }"), "fail");
        await DayAsync(Monday, 10);
        await DayAsync(Monday.AddDays(1), 11);
        _project.LakeFile("raw/events/dt=2026-01-07/events.csv", "event_id,amount\n" + string.Concat(Enumerable.Range(0, 60).Select(i => $"{i},1\n")));

        var run = await _project.RunAsync("ingest", ("run.date", "2026-01-07"));

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("1 expectation(s) failed: volume: 60 row(s) against a median of", run.Error);
        Assert.Equal(AnomalySeverity.Error, Assert.Single(await VolumeAnomaliesAsync(run)).Severity);
    }

    [Fact]
    public async Task Only_batches_of_runs_that_committed_count_as_history()
    {
        // Day 3 first lands a wrong, huge file, and its runs fail after the check passed it on (warn): those batches
        // never committed. Once the file is fixed, day 3 must be judged against days 1-2 only.
        Workflow(VolumeStep("volume", "{ min_history: 2 }"));
        await DayAsync(Monday, 10);
        await DayAsync(Monday.AddDays(1), 10);
        var good = File.ReadAllText(Path.Combine(_project.Directory, "workflows/ingest.yaml"));
        _project.Workflow("ingest", good + "\n" + """
              - id: boom
                type: sql
                inputs: [volume]
                sql: SELECT error('fails after the check') AS x
            """);
        _project.LakeFile("raw/events/dt=2026-01-07/events.csv", "event_id,amount\n" + string.Concat(Enumerable.Range(0, 1000).Select(i => $"{i},1\n")));
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var failed = await _project.RunAsync("ingest", ("run.date", "2026-01-07"));
            Assert.Equal(RunStatus.Failed, failed.Status);
            Assert.Equal(RunStatus.Succeeded, (await _project.StepRunAsync(failed.Id, "volume")).Status);
        }
        _project.Workflow("ingest", good);

        var history = await (await _project.StoreAsync()).GetStepHistoryAsync("ingest", "volume", "none", 56, CancellationToken.None);

        Assert.Equal(2, history.Count);
        var rerun = await DayAsync(Monday.AddDays(2), 10);
        Assert.Empty(await VolumeAnomaliesAsync(rerun));
    }
}
