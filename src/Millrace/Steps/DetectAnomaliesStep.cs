using System.Globalization;
using Millrace.Definitions;
using Millrace.Definitions.Options;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Learning;
using Millrace.Parameters;
using Millrace.Quality;
using Millrace.Storage;
using YamlDotNet.RepresentationModel;

namespace Millrace.Steps;

/// <summary>
/// <c>detect_anomalies</c>: finds unusual values in business data and records them as anomalies.
/// <c>method: timeseries</c> aggregates a value per time bucket (and group) and scores each bucket with a rolling robust
/// z-score against the previous buckets, in DuckDB SQL (<see cref="TimeSeriesDetector"/>); by default only flagged
/// buckets of the latest bucket are recorded, so a daily run does not report old spikes again.
/// <c>method: outliers</c> scores each row with ML.NET's RandomizedPca over numeric features
/// (<see cref="OutlierDetector"/>) and flags the highest scores. The output carries a <c>score</c> and an
/// <c>is_anomaly</c> flag per bucket or row. <c>on_anomaly: fail</c> fails the step once the anomalies are recorded.
/// </summary>
public sealed class DetectAnomaliesStep : IStep
{
    public const string TimeSeries = "timeseries", Outliers = "outliers";

    /// <summary><see cref="TimeSeries"/> or <see cref="Outliers"/>.</summary>
    public required string Method { get; init; }
    /// <summary>warn (record and go on) or fail (record, then fail the step).</summary>
    public string OnAnomaly { get; init; } = "warn";

    /// <summary>timeseries: what is measured and how buckets are judged.</summary>
    public TimeSeriesSettings? Series { get; init; }
    /// <summary>timeseries: record flagged buckets of every bucket, not only of the latest one.</summary>
    public bool ReportAll { get; init; }

    /// <summary>outliers: feature columns (all numeric columns when empty), and columns left out of the default.</summary>
    public IReadOnlyList<string> Include { get; init; } = [];
    public IReadOnlyList<string> Exclude { get; init; } = [];
    /// <summary>outliers: PCA settings.</summary>
    public OutlierSettings Pca { get; init; } = new(3, 20, 42);
    /// <summary>outliers: a fixed score above which a row is flagged; when null, <see cref="Contamination"/> decides.</summary>
    public double? ScoreThreshold { get; init; }
    /// <summary>outliers: the share of rows flagged (those above this quantile of the scores) when no threshold is set.</summary>
    public double Contamination { get; init; } = 0.01;

    /// <summary>Most anomalies one step records one by one; beyond it, one more anomaly says how many were left out.</summary>
    const int MaxRecorded = 100;
    const int Examples = 5;

    public static StepKind Kind { get; } = StepKind.Create<DetectAnomaliesOptions>(
        "detect_anomalies",
        "Flag unusual values: per time bucket against a rolling median/MAD (timeseries), or unusual rows with RandomizedPca (outliers); records anomalies.",
        Parse);

    static IStep? Parse(StepDefinition definition, YamlNodeReader reader, DetectAnomaliesOptions options)
    {
        var map = definition.Options;
        if (definition.Inputs.Count != 1) reader.Error(map, $"a detect_anomalies step needs exactly one input (the data to examine), has {definition.Inputs.Count}");
        if (YamlNodeReader.Find(map, "method") is not YamlScalarNode { Value: var methodText } || methodText != OptionsShape.ChoiceName(options.Method)) return null;
        var method = OptionsShape.ChoiceName(options.Method);
        var (others, other) = options.Method == AnomalyMethod.TimeSeries
            ? (DetectAnomaliesOptions.OutliersOnly, Outliers) : (DetectAnomaliesOptions.TimeSeriesOnly, TimeSeries);
        foreach (var key in map.Children.Keys.OfType<YamlScalarNode>().Where(k => others.Contains(k.Value ?? "")))
            reader.Error(key, $"'{key.Value}' is an option of method: {other}, not of method: {method}");
        var errors = reader.Errors.Count;
        var onAnomaly = OptionsShape.ChoiceName(options.OnAnomaly);
        var step = options.Method == AnomalyMethod.TimeSeries ? ParseTimeSeries(map, reader, options, onAnomaly) : ParseOutliers(map, reader, options, onAnomaly);
        return reader.Errors.Count == errors ? step : null;
    }

    static DetectAnomaliesStep? ParseTimeSeries(YamlMappingNode map, YamlNodeReader reader, DetectAnomaliesOptions o, string onAnomaly)
    {
        var (time, value) = (o.Time, o.Value);
        var (bucket, aggregate, seasonal) = (OptionsShape.ChoiceName(o.Bucket), OptionsShape.ChoiceName(o.Aggregate), OptionsShape.ChoiceName(o.Seasonal));
        if (time is null && YamlNodeReader.Find(map, "time") is null)
            reader.Error(map, "method: timeseries needs 'time': the DATE or TIMESTAMP column that places each row in a bucket");
        if (value is null && YamlNodeReader.Find(map, "value") is null && o.Aggregate != BucketAggregate.Count)
            reader.Error(map, $"method: timeseries needs 'value': the column whose {aggregate} is measured per bucket (or aggregate: count, to count rows)");
        var groupBy = new List<string>();
        foreach (var (column, location) in reader.StringList(map, "group_by"))
        {
            if (TimeSeriesDetector.OutputColumns.Contains(column))
                reader.Errors.Add(new DefinitionError(location, reader.StepId, $"group_by column '{column}' has the name of an output column ({string.Join(", ", TimeSeriesDetector.OutputColumns)}); rename it in a sql step first"));
            else if (groupBy.Contains(column)) reader.Errors.Add(new DefinitionError(location, reader.StepId, $"group_by names '{column}' twice"));
            else groupBy.Add(column);
        }
        if (o.Seasonal == BucketSeason.Weekly && o.Bucket is TimeBucket.Week or TimeBucket.Month)
            reader.Error(YamlNodeReader.Find(map, "seasonal")!, $"seasonal: weekly compares buckets of the same weekday, so it needs bucket: day or hour, not {bucket}");
        var threshold = o.Threshold ?? 3.5;
        if (threshold <= 0) reader.Error(YamlNodeReader.Find(map, "threshold")!, $"threshold must be positive (a robust z-score such as 3.5), got {threshold.ToString(CultureInfo.InvariantCulture)}");
        if (o.MinHistory > o.Window)
            reader.Error(YamlNodeReader.Find(map, "min_history")!, $"min_history ({o.MinHistory}) cannot exceed window ({o.Window}): no bucket could ever be scored");
        if (time is null || (value is null && o.Aggregate != BucketAggregate.Count)) return null;
        return new DetectAnomaliesStep
        {
            Method = TimeSeries, OnAnomaly = onAnomaly, ReportAll = o.Report == AnomalyReport.All,
            Series = new TimeSeriesSettings(time, bucket, value, aggregate, groupBy, o.Window, seasonal, threshold, o.MinHistory ?? Math.Min(7, o.Window)),
        };
    }

    static DetectAnomaliesStep? ParseOutliers(YamlMappingNode map, YamlNodeReader reader, DetectAnomaliesOptions o, string onAnomaly)
    {
        var (threshold, contamination) = (o.Threshold, o.Contamination);
        if (threshold is not null && contamination is not null)
            reader.Error(YamlNodeReader.Find(map, "contamination")!, "give threshold (a fixed score) or contamination (a share of rows), not both");
        if (contamination is <= 0 or > 0.5)
            reader.Error(YamlNodeReader.Find(map, "contamination")!, $"contamination is the share of rows to flag: more than 0 and at most 0.5, got {contamination.Value.ToString(CultureInfo.InvariantCulture)}");
        if (o.OnAnomaly == WarnOrFail.Fail && threshold is null)
            reader.Error(YamlNodeReader.Find(map, "on_anomaly")!, "on_anomaly: fail needs a threshold with method: outliers: contamination flags a share of the rows on every run, so every run would fail");
        return new DetectAnomaliesStep
        {
            Method = Outliers, OnAnomaly = onAnomaly, Include = o.Features.Include, Exclude = o.Features.Exclude,
            Pca = new OutlierSettings(o.Rank, o.Oversampling, o.Seed), ScoreThreshold = threshold, Contamination = contamination ?? 0.01,
        };
    }

    public ValueTask<StepResult> ExecuteAsync(StepContext context, CancellationToken ct) =>
        Method == TimeSeries ? DetectInSeriesAsync(context, Series!, ct) : DetectOutliersAsync(context, ct);

    AnomalySeverity Severity => OnAnomaly == "fail" ? AnomalySeverity.Error : AnomalySeverity.Warning;

    async ValueTask<StepResult> DetectInSeriesAsync(StepContext context, TimeSeriesSettings settings, CancellationToken ct)
    {
        var connection = context.Connection;
        var input = context.SingleInput;
        var scored = SqlText.Identifier($"__timeseries_{context.Step.Id}");
        var query = TimeSeriesDetector.ScoreQuery(input, DuckDb.Describe(connection, input), settings);
        await DuckDb.ExecuteAsync(connection, $"""
            CREATE TEMP TABLE {scored} AS {query};
            CREATE TABLE {context.OutputTable} AS SELECT * EXCLUDE (history) FROM {scored};
            """, ct);
        var buckets = await DuckDb.CountAsync(connection, context.OutputTable, ct);
        var flaggedInOutput = await DuckDb.ScalarAsync<long>(connection, $"SELECT count(*) FROM {context.OutputTable} WHERE is_anomaly", ct);
        var (flagged, total, latest) = await TimeSeriesDetector.FlaggedAsync(connection, scored, settings, !ReportAll, MaxRecorded, ct);
        var series = settings.GroupBy.Count == 0 ? (buckets == 0 ? 0 : 1)
            : await DuckDb.ScalarAsync<long>(connection, $"SELECT count(*) FROM (SELECT DISTINCT {string.Join(", ", settings.GroupBy.Select(SqlText.Identifier))} FROM {scored})", ct);
        await DuckDb.ExecuteAsync(connection, $"DROP TABLE {scored}", ct);

        var measure = Measure(settings);
        var messages = new List<string>();
        foreach (var bucket in flagged)
        {
            var message = Describe(bucket, settings, measure);
            messages.Add(message);
            await context.ReportAnomalyAsync(TimeSeries, Severity, OnAnomaly, message, new Dictionary<string, object?>
            {
                ["measure"] = measure,
                ["group"] = bucket.Group.ToDictionary(g => g.Key, g => JsonValue(g.Value)),
                ["bucket"] = TimeSeriesDetector.FormatBucket(bucket.Bucket),
                ["value"] = bucket.Value,
                ["median"] = bucket.Median,
                ["mad"] = bucket.Mad,
                // JSON has no infinity: an infinite score (MAD 0) is written as null, the message says why.
                ["score"] = double.IsFinite(bucket.Score) ? bucket.Score : null,
                ["history"] = bucket.History,
                ["threshold"] = settings.Threshold,
            }, ct);
        }
        if (total > flagged.Count)
            await context.ReportAnomalyAsync(TimeSeries, Severity, OnAnomaly,
                $"{total - flagged.Count} more flagged bucket(s) of {measure} were not recorded one by one (at most {MaxRecorded} a run); the step's output lists them all (is_anomaly)",
                new { measure, more = total - flagged.Count }, ct);

        var scope = ReportAll || latest is null ? "in all buckets" : $"in the latest bucket ({TimeSeriesDetector.FormatBucket(latest)})";
        await context.LogAsync(string.Create(CultureInfo.InvariantCulture,
            $"{measure}: {buckets} bucket(s) in {series} series, {flaggedInOutput} flagged; {total} anomal{(total == 1 ? "y" : "ies")} {scope}"), ct);
        if (OnAnomaly == "fail" && total > 0)
            throw new StepFailedException($"{total} time-series anomal{(total == 1 ? "y" : "ies")} {scope}: {messages[0]}{(total > 1 ? $" (and {total - 1} more)" : "")}; on_anomaly: fail stops here (see 'millrace anomalies')");
        return new StepResult(buckets, new Dictionary<string, object?>
        {
            ["method"] = TimeSeries, ["measure"] = measure, ["series"] = series, ["buckets"] = buckets, ["flagged"] = flaggedInOutput,
            ["reported"] = total, ["latest_bucket"] = TimeSeriesDetector.FormatBucket(latest),
        });
    }

    static string Measure(TimeSeriesSettings settings) =>
        settings.Value is null ? "count of rows" : $"{settings.Aggregate} of {settings.Value}";

    static string Describe(FlaggedBucket bucket, TimeSeriesSettings settings, string measure)
    {
        var group = bucket.Group.Count == 0 ? "" : " for " + string.Join(", ", bucket.Group.Select(g => $"{g.Key}={Convert.ToString(g.Value, CultureInfo.InvariantCulture) ?? "NULL"}"));
        var when = TimeSeriesDetector.FormatBucket(bucket.Bucket);
        var earlier = settings.Seasonal == "weekly" && bucket.Bucket is DateOnly or DateTime
            ? $"{bucket.History} earlier {(bucket.Bucket is DateOnly d ? d.DayOfWeek : ((DateTime)bucket.Bucket).DayOfWeek)}s{(bucket.Bucket is DateTime t ? t.ToString(" 'at' HH:mm", CultureInfo.InvariantCulture) : "")}"
            : $"{bucket.History} earlier {(bucket.History == 1 ? settings.Bucket : settings.Bucket + "s")}";
        return double.IsFinite(bucket.Score)
            ? string.Create(CultureInfo.InvariantCulture, $"{measure}{group} on {when} is {Number(bucket.Value)}, against a median of {Number(bucket.Median)} (MAD {Number(bucket.Mad)}) over the {earlier}: robust z {bucket.Score:0.0} beyond ±{settings.Threshold}")
            : $"{measure}{group} on {when} is {Number(bucket.Value)}, while the {earlier} were all {Number(bucket.Median)} (MAD 0)";
    }

    static string Number(double value) =>
        value.ToString(Math.Abs(value) >= 1 || value == 0 ? "#,##0.##" : "G4", CultureInfo.InvariantCulture);

    async ValueTask<StepResult> DetectOutliersAsync(StepContext context, CancellationToken ct)
    {
        var connection = context.Connection;
        var input = context.SingleInput;
        var schema = DuckDb.Describe(connection, input);
        foreach (var added in new[] { "score", "is_anomaly" })
            if (schema.Any(c => c.Name == added))
                throw new StepFailedException($"the input already has a column '{added}', and method: outliers adds score and is_anomaly; rename or drop it in a sql step first");
        foreach (var name in Include.Concat(Exclude))
            if (!schema.Any(c => c.Name == name))
                throw new StepFailedException($"feature column '{name}' is not in the input (columns: {string.Join(", ", schema.Select(c => c.Name))})");
        var candidates = Include.Count > 0
            ? schema.Where(c => Include.Contains(c.Name)).ToList()
            : schema.Where(c => FeaturePlan.RoleOf(c.Type) == FeaturePlan.Numeric && !Exclude.Contains(c.Name)).ToList();
        var unusable = candidates.Where(c => FeaturePlan.RoleOf(c.Type) is not (FeaturePlan.Numeric or FeaturePlan.Boolean)).ToList();
        if (unusable.Count > 0)
            throw new StepFailedException($"method: outliers needs numeric or boolean features; {string.Join(", ", unusable.Select(c => $"'{c.Name}' is {c.Type}"))}");

        var rows = await DuckDb.CountAsync(connection, input, ct);
        if (rows == 0)
        {
            await DuckDb.ExecuteAsync(connection, $"CREATE TABLE {context.OutputTable} AS SELECT *, CAST(NULL AS DOUBLE) AS score, FALSE AS is_anomaly FROM {input} WHERE FALSE", ct);
            await context.LogAsync("no rows: nothing to score", ct);
            return new StepResult(0, new Dictionary<string, object?> { ["method"] = Outliers, ["rows"] = 0L, ["flagged"] = 0L });
        }

        // Tables, not temp tables: the data views read them through duplicates of this connection.
        var numbered = $"__outliers_input_{context.Step.Id}";
        var scores = $"__outliers_scores_{context.Step.Id}";
        try
        {
            var numberedTable = ModelScorer.Number(connection, input, numbered);
            // A column that never varies (or is always NULL) says nothing about a row; scaled, it would be 0/0.
            var spread = await Task.Run(() =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT " + string.Join(", ", candidates.Select(c => FeaturePlan.RoleOf(c.Type) == FeaturePlan.Boolean
                    ? $"stddev_pop(CAST(CAST({SqlText.Identifier(c.Name)} AS INTEGER) AS DOUBLE))"
                    : $"stddev_pop(CAST({SqlText.Identifier(c.Name)} AS DOUBLE))")) + $" FROM {numberedTable}";
                using var reader = command.ExecuteReader();
                reader.Read();
                return candidates.Select((_, i) => reader.IsDBNull(i) ? 0 : reader.GetDouble(i)).ToList();
            }, ct);
            var features = candidates.Where((_, i) => spread[i] > 0 && double.IsFinite(spread[i])).ToList();
            var constant = candidates.Where((_, i) => !(spread[i] > 0 && double.IsFinite(spread[i]))).Select(c => c.Name).ToList();
            if (constant.Count > 0) await context.LogAsync($"left out feature(s) that do not vary: {string.Join(", ", constant)}", ct);
            if (features.Count < 2)
                throw new StepFailedException($"method: outliers needs at least 2 numeric features that vary, found {features.Count}" +
                    $" ({(candidates.Count == 0 ? "the input has no numeric column" : string.Join(", ", candidates.Select(c => c.Name)))}{(constant.Count > 0 ? $"; constant or empty: {string.Join(", ", constant)}" : "")}); list them under features");
            var rank = Math.Min(Pca.Rank, features.Count - 1);
            if (rank < Pca.Rank) await context.LogAsync($"rank {Pca.Rank} capped at {rank}: the number of features ({features.Count}) - 1", ct);

            var scored = await Task.Run(() => OutlierDetector.Score(connection, numberedTable,
                features.Select(f => (f.Name, FeaturePlan.RoleOf(f.Type) == FeaturePlan.Boolean)).ToList(), Pca with { Rank = rank }, scores, ct), ct);
            var cutoff = ScoreThreshold ?? await DuckDb.ScalarAsync<double>(connection,
                $"SELECT quantile_cont(score, {(1 - Contamination).ToString("R", CultureInfo.InvariantCulture)}) FROM {SqlText.Identifier(scores)}", ct);
            await DuckDb.ExecuteAsync(connection, $"""
                CREATE TABLE {context.OutputTable} AS
                SELECT i.* EXCLUDE ({OutlierDetector.RowColumn}), s.score, coalesce(s.score > {cutoff.ToString("R", CultureInfo.InvariantCulture)}, FALSE) AS is_anomaly
                FROM {numberedTable} i JOIN {SqlText.Identifier(scores)} s USING ({OutlierDetector.RowColumn})
                ORDER BY i.{OutlierDetector.RowColumn}
                """, ct);
            var flagged = await DuckDb.ScalarAsync<long>(connection, $"SELECT count(*) FROM {context.OutputTable} WHERE is_anomaly", ct);
            var names = features.Select(f => f.Name).ToList();
            var rule = ScoreThreshold is null
                ? string.Create(CultureInfo.InvariantCulture, $"the top {Contamination:0.##%} of scores, above {cutoff:G4}")
                : string.Create(CultureInfo.InvariantCulture, $"score above the threshold {cutoff:G4}");
            await context.LogAsync($"scored {scored} rows over {string.Join(", ", names)} (RandomizedPca, rank {rank}); {flagged} flagged: {rule}", ct);
            if (flagged > 0)
            {
                var examples = await ExamplesAsync(context, ct);
                var message = string.Create(CultureInfo.InvariantCulture,
                    $"{flagged} of {scored} rows are outliers over {string.Join(", ", names)} ({rule}); highest score {examples[0]["score"]:G4}");
                await context.ReportAnomalyAsync(Outliers, Severity, OnAnomaly, message, new Dictionary<string, object?>
                {
                    ["flagged"] = flagged, ["rows"] = scored, ["features"] = names, ["rank"] = rank,
                    ["threshold"] = cutoff, ["contamination"] = ScoreThreshold is null ? Contamination : null, ["examples"] = examples,
                }, ct);
                if (OnAnomaly == "fail")
                    throw new StepFailedException($"{message}; on_anomaly: fail stops here (see 'millrace anomalies')");
            }
            return new StepResult(scored, new Dictionary<string, object?>
            {
                ["method"] = Outliers, ["rows"] = scored, ["flagged"] = flagged, ["features"] = names, ["rank"] = rank, ["threshold"] = cutoff,
            });
        }
        finally
        {
            DuckDb.Execute(connection, $"DROP TABLE IF EXISTS {SqlText.Identifier(numbered)}; DROP TABLE IF EXISTS {SqlText.Identifier(scores)};");
        }
    }

    /// <summary>The highest-scoring flagged rows, each column with a JSON-friendly value.</summary>
    async Task<List<Dictionary<string, object?>>> ExamplesAsync(StepContext context, CancellationToken ct) => await Task.Run(() =>
    {
        using var command = context.Connection.CreateCommand();
        command.CommandText = $"SELECT * EXCLUDE (is_anomaly) FROM {context.OutputTable} WHERE is_anomaly ORDER BY score DESC LIMIT {Examples}";
        using var reader = command.ExecuteReader();
        var examples = new List<Dictionary<string, object?>>();
        while (reader.Read())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++) row[reader.GetName(i)] = JsonValue(reader.IsDBNull(i) ? null : reader.GetValue(i));
            examples.Add(row);
        }
        return examples;
    }, ct);

    /// <summary>A value JSON can hold as is: numbers, text, booleans; dates as ISO text; anything else as its text.</summary>
    static object? JsonValue(object? value) => value switch
    {
        null or DBNull => null,
        double d => double.IsFinite(d) ? d : d.ToString(CultureInfo.InvariantCulture),
        float f => float.IsFinite(f) ? f : f.ToString(CultureInfo.InvariantCulture),
        bool or string or long or int or short or sbyte or byte or ulong or uint or ushort or decimal or Guid => value,
        DateOnly date => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime time => time.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        DateTimeOffset time => time.ToString("O", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    };
}
