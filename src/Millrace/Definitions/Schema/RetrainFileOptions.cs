using System.Text.Json.Nodes;
using Millrace.Definitions.Options;

namespace Millrace.Definitions.Schema;

/// <summary><c>retrain_when:</c> of a pipeline.</summary>
public sealed record RetrainOptions
{
    [Option("drift", "The PSI at which a retraining run is requested (e.g. 0.3). At least one of `drift` and `metric` is needed.", Minimum = 0, ExclusiveMinimum = true)]
    public double? Drift { get; init; }

    [Option("metric", "Request a retraining when the champion's newest realized metric (from an `evaluate` step) is worse than a threshold or has dropped from its holdout value.")]
    public RetrainMetricOptions? Metric { get; init; }

    [Option("cooldown", "No second triggered training of `pipeline` within this duration of the last one (`0s` to `366d`).", Pattern = OptionAttribute.DurationPattern, Default = "`0s`")]
    public string? Cooldown { get; init; }

    [Option("min_rows", "Drift measured on fewer rows than this does not count.", Minimum = 0)]
    public int MinRows { get; init; }

    [Option("reference", "What drift is measured against: `champion` (the drift step's `model: name@champion`, re-baselined at each promotion). `{ window: 30d }` is not supported yet.", Schema = nameof(ReferenceSchema), Default = "`champion`")]
    public YamlDotNet.RepresentationModel.YamlNode? Reference { get; init; }

    [Option("pipeline", "The pipeline to run.", Default = "`training`")]
    public string? Pipeline { get; init; }

    /// <summary>The schema of <c>reference</c>: <c>champion</c>, or <c>{ window: duration }</c> (refused as not supported yet).</summary>
    public static JsonObject ReferenceSchema() => new()
    {
        ["anyOf"] = new JsonArray(
            new JsonObject { ["enum"] = new JsonArray("champion") },
            new JsonObject
            {
                ["type"] = "object", ["additionalProperties"] = false, ["required"] = new JsonArray("window"),
                ["properties"] = new JsonObject { ["window"] = new JsonObject { ["type"] = "string", ["pattern"] = OptionAttribute.DurationPattern } },
            }),
    };
}

/// <summary><c>retrain_when.metric:</c> of a pipeline.</summary>
public sealed record RetrainMetricOptions
{
    [Option("name", "The realized metric: auc, pr_auc, precision, recall, macro_accuracy, micro_accuracy (higher is better) or log_loss, rmse, mae (lower is better).", Required = true)]
    public string Name { get; init; } = "";

    [Option("below", "Ask when the metric is below this (metrics where higher is better).")]
    public double? Below { get; init; }

    [Option("above", "Ask when the metric is above this (metrics where lower is better: log_loss, rmse, mae).")]
    public double? Above { get; init; }

    [Option("drop", "Ask when the metric is worse than the champion's holdout value by more than this.", Minimum = 0, ExclusiveMinimum = true)]
    public double? Drop { get; init; }
}
