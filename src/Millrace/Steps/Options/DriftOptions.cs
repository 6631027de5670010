using Millrace.Definitions.Options;

namespace Millrace.Steps;

/// <summary>What a drifted feature or a flagged anomaly does: a warning, or the step fails.</summary>
public enum WarnOrFail { Warn, Fail }

/// <summary>The options of a <c>drift</c> step.</summary>
public sealed record DriftOptions
{
    [Option("model", "The reference is the training profile saved with this model version. A train step of the project must register the model. Parameters allowed. With `model`, the step takes one input; without it, the second input is the reference.", Type = "name@alias | name@vN")]
    public string? Model { get; init; }

    [Option("where", "Without `model`: only the rows of the second input (the reference) where this holds. Parameters become literals.", Type = "SQL condition")]
    public string? Where { get; init; }

    [Option("columns", "The features to compare.", Type = "list", Default = "the model's features, or every numeric, boolean and text column both inputs have")]
    public IReadOnlyList<string> Columns { get; init; } = [];

    [Option("threshold", "The PSI above which a feature has drifted.", Minimum = 0, ExclusiveMinimum = true)]
    public double Threshold { get; init; } = Quality.DriftProfile.DefaultThreshold;

    [Option("on_drift", "`fail` fails the step when a feature drifted (the results and anomalies are recorded first).")]
    public WarnOrFail OnDrift { get; init; } = WarnOrFail.Warn;

    [Option("on_missing_model", "With `model`, when that version does not exist yet: fail, or skip with an empty output and a warning (the first days, before any training).")]
    public MissingModelPolicy OnMissingModel { get; init; } = MissingModelPolicy.Fail;
}
