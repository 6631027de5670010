using System.Globalization;
using Millrace.Definitions;
using Millrace.Definitions.Options;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Learning;
using Millrace.Parameters;
using Millrace.Storage;

using YamlDotNet.RepresentationModel;

namespace Millrace.Steps;

/// <summary>
/// <c>evaluate</c>: realized performance. Joins the predictions already in the lake with labels that arrived later
/// (matched by key, within a horizon after the score date) and records, per score date, model version and variant
/// (champion, shadow), the task's metrics with the labelled and scored rows (<see cref="PerformancePoint"/>). Only
/// score dates whose horizon has fully passed by run.date are evaluated (an outcome not known yet is never counted as
/// a negative), and only those whose labels may have changed since (the newest evaluable date and the <c>recheck</c>
/// days before it), so a run's work does not grow with the history. With <c>alert</c>, a date whose realized metric is
/// more than <c>drop</c> worse than the version's holdout figure records a <c>performance_dropped</c> anomaly.
/// </summary>
public sealed partial class EvaluateStep : IStep
{
    /// <summary>The longest horizon or recheck window.</summary>
    public static readonly DurationBounds HorizonBounds = new(TimeSpan.FromDays(3650));

    public required string Model { get; init; }
    public required IReadOnlyList<string> Predictions { get; init; }
    public IReadOnlyList<string> Shadow { get; init; } = [];
    public required string ScoreDate { get; init; }
    public required string LabelInput { get; init; }
    public required string Key { get; init; }
    public string? EventTime { get; init; }
    public string? Value { get; init; }
    public required int HorizonDays { get; init; }
    public int RecheckDays { get; init; } = 2;
    public string? AlertMetric { get; init; }
    public double AlertDrop { get; init; }

    public static StepKind Kind { get; } = StepKind.Create<EvaluateOptions>(
        "evaluate",
        "Realized performance: join predictions in the lake with labels that arrived later (key, horizon) and record each score date's metrics per model version.",
        Parse);

    static IStep? Parse(StepDefinition definition, YamlNodeReader reader, EvaluateOptions options)
    {
        var map = definition.Options;
        var errors = reader.Errors.Count;
        if (options.Model.Length > 0 && (options.Model.Contains('@', StringComparison.Ordinal) || !options.Model.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')))
            reader.Error(YamlNodeReader.Find(map, "model")!, $"model must be a model name (letters, digits and _), got '{options.Model}': every version's predictions are evaluated, each by its model_version");
        void MustBeInput(string input, string field)
        {
            if (!definition.Inputs.Contains(input))
                reader.Error(YamlNodeReader.Find(map, field) ?? map, $"{field} names '{input}', which is not one of the step's inputs ({(definition.Inputs.Count == 0 ? "none" : string.Join(", ", definition.Inputs))}); add it to 'inputs:'");
        }
        foreach (var input in options.Predictions) MustBeInput(input, "predictions");
        foreach (var input in options.Shadow)
        {
            MustBeInput(input, "shadow");
            if (options.Predictions.Contains(input)) reader.Error(YamlNodeReader.Find(map, "shadow")!, $"'{input}' is both in predictions and in shadow; shadow predictions are never the champion's");
        }
        int horizon = 0, recheck = 2;
        if (options.Label is { } label && YamlNodeReader.Find(map, "label") is YamlMappingNode labelMap)
        {
            MustBeInput(label.Input, "label");
            if (options.Predictions.Contains(label.Input) || options.Shadow.Contains(label.Input))
                reader.Error(labelMap, $"label.input '{label.Input}' is also a predictions input; labels come from another input");
            if (label.Value is null && label.EventTime is null)
                reader.Error(labelMap, "label needs 'event_time' (a binary label from an event: true when one happened within the horizon) or 'value' (the column holding the true value)");
            horizon = WholeDays(reader, labelMap, "horizon") ?? 0;
        }
        if (YamlNodeReader.Find(map, "recheck") is not null) recheck = WholeDays(reader, map, "recheck", allowZero: true) ?? 0;
        if (options.Alert is { } alert && YamlNodeReader.Find(map, "alert") is YamlMappingNode alertMap)
        {
            if (alert.Metric.Length > 0 && !RealizedMetrics.Comparable.Contains(alert.Metric))
                reader.Error(YamlNodeReader.Find(alertMap, "metric")!, $"alert.metric must be a metric with a holdout figure to compare with ({string.Join(", ", RealizedMetrics.Comparable)}), got '{alert.Metric}'{ProjectValidator.Suggest(alert.Metric, RealizedMetrics.Comparable)}");
            else if (IsBounded(alert.Metric) && alert.Drop >= 1)
                reader.Error(YamlNodeReader.Find(alertMap, "drop")!, string.Create(CultureInfo.InvariantCulture, $"alert.drop must be less than 1 for {alert.Metric}, a metric between 0 and 1, got {alert.Drop}"));
        }
        if (reader.Errors.Count > errors || options.Label is null) return null;
        return new EvaluateStep
        {
            Model = options.Model, Predictions = options.Predictions, Shadow = options.Shadow, ScoreDate = options.ScoreDate,
            LabelInput = options.Label.Input, Key = options.Label.Key, EventTime = options.Label.EventTime, Value = options.Label.Value,
            HorizonDays = horizon, RecheckDays = recheck, AlertMetric = options.Alert?.Metric, AlertDrop = options.Alert?.Drop ?? 0,
        };
    }

    /// <summary>Metrics between 0 and 1, for which a drop of 1 or more can never happen.</summary>
    static bool IsBounded(string metric) => metric is not ("log_loss" or "rmse" or "mae");

    static int? WholeDays(YamlNodeReader reader, YamlMappingNode map, string key, bool allowZero = false)
    {
        if (reader.Duration(map, key, HorizonBounds with { AllowZero = allowZero }) is not { } span) return null;
        if (span.Ticks % TimeSpan.TicksPerDay == 0) return (int)span.TotalDays;
        reader.Error(YamlNodeReader.Find(map, key)!, $"field '{key}' must be whole days (score dates are dates), got '{Durations.Format(span)}'");
        return null;
    }

    public async ValueTask<StepResult> ExecuteAsync(StepContext context, CancellationToken ct)
    {
        var runDate = (DateOnly)context.Parameters[BuiltInParameters.RunDate].Value;
        var newest = runDate.AddDays(-HorizonDays);
        var oldest = newest.AddDays(-RecheckDays);
        var window = string.Create(CultureInfo.InvariantCulture, $"{oldest:yyyy-MM-dd}..{newest:yyyy-MM-dd}");
        var points = new List<PerformancePoint>();
        if (await TaskAsync(context, ct) is not { } task)
            await context.LogAsync($"model '{Model}' has no registered version yet; nothing evaluated", ct, "warn");
        else
        {
            var plan = Plan(context, task);
            await DuckDb.ExecuteAsync(context.Connection, plan.Sql(oldest, newest, context.Step.Id), ct);
            var groups = await ReadGroupsAsync(context, plan, ct);
            if (groups.Count == 0) await WarnNothingToEvaluateAsync(context, runDate, oldest, newest, ct);
            points = await PointsAsync(context, groups, ct);
            await DuckDb.ExecuteAsync(context.Connection, plan.Cleanup(context.Step.Id), ct);
        }
        if (points.Count > 0) await context.Store.AddPerformanceAsync(points, ct);
        await AlertAsync(context, points, ct);
        await WriteOutputAsync(context, points, ct);
        return new StepResult(points.Count, new Dictionary<string, object?>
        {
            ["model"] = Model, ["window"] = window, ["dates"] = points.Select(p => p.ScoreDate).Distinct().Count(),
            ["labelled_rows"] = points.Where(p => p.Variant == PredictionVariant.Champion).Sum(p => p.LabelledRows),
            ["scored_rows"] = points.Where(p => p.Variant == PredictionVariant.Champion).Sum(p => p.ScoredRows),
        });
    }

    /// <summary>The points of the evaluated groups; versions the registry does not know are skipped with a warning.</summary>
    async Task<List<PerformancePoint>> PointsAsync(StepContext context, IReadOnlyList<Group> groups, CancellationToken ct)
    {
        var points = new List<PerformancePoint>();
        var versions = new Dictionary<int, ModelVersion?>();
        foreach (var group in groups)
        {
            if (!versions.TryGetValue(group.Version, out var version))
            {
                versions[group.Version] = version = await context.Store.GetModelVersionAsync(Model, group.Version, null, ct);
                if (version is null) await context.LogAsync($"predictions name {Model}@v{group.Version}, which is not registered; they are not evaluated", ct, "warn");
            }
            if (version is null) continue;
            var metrics = group.Labelled.Count == 0 ? [] : Metrics(version.Task, group);
            if (group.Labelled.Count == 0 && group.Variant == PredictionVariant.Champion)
                await context.LogAsync(string.Create(CultureInfo.InvariantCulture, $"{Model}@v{group.Version}, score date {group.ScoreDate:yyyy-MM-dd}: none of its {group.Scored} predictions has a label (coverage 0); no metric recorded"), ct, "warn");
            points.Add(new PerformancePoint
            {
                ProjectId = context.Project.Id, Model = Model, Version = group.Version, Variant = group.Variant, ScoreDate = group.ScoreDate,
                Metrics = metrics.ToDictionary(m => m.Key, m => Math.Round(m.Value, 6)), ScoredRows = group.Scored, LabelledRows = group.Labelled.Count,
                RunId = context.RunId, RecordedAt = context.Clock.GetUtcNow(),
            });
        }
        return points;
    }

    static Dictionary<string, double> Metrics(ModelTask task, Group group) => task switch
    {
        ModelTask.Binary => RealizedMetrics.Binary(
            group.Labelled.Select(r => r.Probability ?? 0.5).ToList(), group.Labelled.Select(r => r.PredictedLabel == "true").ToList(),
            group.Labelled.Select(r => r.Truth == "true").ToList()),
        ModelTask.Multiclass => RealizedMetrics.Multiclass(group.Labelled.Select(r => r.PredictedLabel ?? "").ToList(), group.Labelled.Select(r => r.Truth).ToList()),
        _ => RealizedMetrics.Regression(group.Labelled.Select(r => r.Score ?? 0).ToList(),
            group.Labelled.Select(r => double.Parse(r.Truth, CultureInfo.InvariantCulture)).ToList()),
    };

    /// <summary>For each champion point whose realized metric is worse than the holdout figure by more than the drop: a <c>performance_dropped</c> anomaly.</summary>
    async Task AlertAsync(StepContext context, IReadOnlyList<PerformancePoint> points, CancellationToken ct)
    {
        if (AlertMetric is not { } metric) return;
        foreach (var point in points.Where(p => p.Variant == PredictionVariant.Champion))
        {
            if (!point.Metrics.TryGetValue(metric, out var value)) continue;
            var version = await context.Store.GetModelVersionAsync(Model, point.Version, null, ct);
            if (version is null || !version.Metrics.TryGetValue(metric, out var reference)) continue;
            var higherIsBetter = ModelBuilder.HigherIsBetter(metric);
            var worse = higherIsBetter ? reference - value : value - reference;
            if (worse <= AlertDrop) continue;
            var name = $"{Model}@v{point.Version}";
            await context.ReportAnomalyAsync("performance_dropped", AnomalySeverity.Warning, "warn",
                string.Create(CultureInfo.InvariantCulture, $"{name}'s realized {metric} for score date {point.ScoreDate:yyyy-MM-dd} is {value:0.####}, {worse:0.####} {(higherIsBetter ? "below" : "above")} its holdout {reference:0.####} (allowed drop {AlertDrop:0.####}) on {point.LabelledRows} labelled rows"),
                new { model = Model, version = point.Version, metric, value, reference, drop = AlertDrop, score_date = point.ScoreDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), labelled_rows = point.LabelledRows }, ct);
        }
    }

    /// <summary>The step's output: one row per point, every realized metric a column (NULL where the task has none).</summary>
    async Task WriteOutputAsync(StepContext context, IReadOnlyList<PerformancePoint> points, CancellationToken ct)
    {
        var metricColumns = string.Join(", ", RealizedMetrics.AllNames.Select(n => $"{SqlText.Identifier(n)} DOUBLE"));
        string Value(PerformancePoint p, string metric) => p.Metrics.TryGetValue(metric, out var v) ? v.ToString("R", CultureInfo.InvariantCulture) : "NULL";
        var rows = points.Select(p => string.Create(CultureInfo.InvariantCulture,
            $"(DATE '{p.ScoreDate:yyyy-MM-dd}', {SqlText.Quote(Model)}, {p.Version}, {SqlText.Quote(p.Variant.ToString().ToLowerInvariant())}, {p.ScoredRows}, {p.LabelledRows}, {p.Coverage:R}, {string.Join(", ", RealizedMetrics.AllNames.Select(n => Value(p, n)))})"));
        await DuckDb.ExecuteAsync(context.Connection, $"""
            CREATE TABLE {context.OutputTable} (score_date DATE, model VARCHAR, model_version INTEGER, variant VARCHAR, scored_rows BIGINT, labelled_rows BIGINT, coverage DOUBLE, {metricColumns});
            {(points.Count == 0 ? "" : $"INSERT INTO {context.OutputTable} VALUES {string.Join(", ", rows)};")}
            """, ct);
    }
}
