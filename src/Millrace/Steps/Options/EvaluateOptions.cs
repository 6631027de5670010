using Millrace.Definitions.Options;

namespace Millrace.Steps;

/// <summary>The options of an <c>evaluate</c> step.</summary>
public sealed record EvaluateOptions
{
    [Option("model", "The registered model whose predictions are evaluated; each row's `model_version` names its version, and the version's task (from the registry) chooses the metrics.", Required = true, Type = "name")]
    public string Model { get; init; } = "";

    [Option("predictions", "The inputs holding the served (champion) predictions, as `predict` writes them (`model_version`, `probability`, `predicted_label`, `score`, the key and the score date). Each must be one of the step's inputs.", Required = true, Type = "input | list")]
    public IReadOnlyList<string> Predictions { get; init; } = [];

    [Option("shadow", "Inputs holding shadow predictions (scored beside the champion's): their points are `shadow` and are measured on the rows the champion's were labelled on, matched by key.", Type = "input | list", Default = "none")]
    public IReadOnlyList<string> Shadow { get; init; } = [];

    [Option("score_date", "The predictions' column holding the date they were scored for (DATE or TIMESTAMP).", Type = "column")]
    public string ScoreDate { get; init; } = "as_of";

    [Option("label", "Where the truth comes from: `{ input, key, event_time, horizon, value }`.", Required = true, Type = "{ input, key, event_time, horizon, value }")]
    public EvaluateLabelOptions? Label { get; init; }

    [Option("recheck", "Score dates whose horizon ended up to this long before the newest evaluable one are evaluated again (labels that arrive late). `0d`: only the date whose horizon ends on run.date.", Type = "duration", Pattern = OptionAttribute.DurationPattern, Default = "`2d`")]
    public string? Recheck { get; init; }

    [Option("alert", "A `performance_dropped` anomaly when a date's realized `metric` is more than `drop` worse than the holdout figure the version was registered with.", Type = "{ metric, drop }")]
    public EvaluateAlertOptions? Alert { get; init; }
}

/// <summary>An <c>evaluate</c> step's <c>label:</c>.</summary>
public sealed record EvaluateLabelOptions
{
    [Option("input", "The step input holding the labels (a dataset or a step's output).", Required = true, Type = "input")]
    public string Input { get; init; } = "";

    [Option("key", "The column that matches a label to a prediction (both inputs must have it).", Required = true, Type = "column")]
    public string Key { get; init; } = "";

    [Option("event_time", "The labels' DATE or TIMESTAMP column: a label counts for a score date when its date is after the score date and at most `horizon` after it. Without `value`, a binary label is true when such an event exists (\"churned within 14 days\").", Type = "column")]
    public string? EventTime { get; init; }

    [Option("horizon", "How long after the score date an outcome may happen: a score date is evaluated only once run.date is at least this far past it. Whole days, up to `3650d`.", Required = true, Type = "duration", Pattern = OptionAttribute.DurationPattern)]
    public string Horizon { get; init; } = "";

    [Option("value", "The labels' column holding the true value (binary: boolean, 0/1 or 'true'/'false'; regression: a number; multiclass: any value). Without it, the label is the event (`event_time` required).", Type = "column")]
    public string? Value { get; init; }
}

/// <summary>An <c>evaluate</c> step's <c>alert:</c>.</summary>
public sealed record EvaluateAlertOptions
{
    [Option("metric", "The realized metric compared with the version's holdout figure: binary auc, pr_auc, log_loss, precision, recall; multiclass macro_accuracy, micro_accuracy; regression rmse, mae.", Required = true, Type = "metric")]
    public string Metric { get; init; } = "";

    [Option("drop", "How much worse than the holdout figure the realized one may be (lower for auc, higher for log_loss, rmse, mae).", Required = true, Minimum = 0, ExclusiveMinimum = true)]
    public double Drop { get; init; }
}
