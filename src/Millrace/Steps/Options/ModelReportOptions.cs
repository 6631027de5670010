using Millrace.Definitions.Options;

namespace Millrace.Steps;

/// <summary>The options of a <c>model_report</c> step.</summary>
public sealed record ModelReportOptions
{
    [Option("model", "The model, and the version to feature (default: its champion). Parameters allowed.", Required = true, Type = "name | name@alias | name@vN")]
    public string Model { get; init; } = "";

    [Option("title", "The page title. Parameters allowed.", Default = "`Model <name>`")]
    public string? Title { get; init; }

    [Option("name", "The folder under `reports/`: `reports/<name>/<run.date>/`. Letters, digits, `_` and `-`.", Type = "name", Default = "`model_<name>`")]
    public string? Name { get; init; }

    [Option("label", "The true-label column for the ROC curve; the first input that has it is used.", Type = "column", Default = "the model's label")]
    public string? Label { get; init; }

    [Option("drift_threshold", "The PSI drawn as the drift threshold (as the drift step's).", Minimum = 0, ExclusiveMinimum = true)]
    public double DriftThreshold { get; init; } = Quality.DriftProfile.DefaultThreshold;

    [Option("on_missing_model", "When the model has no such version yet: fail, or skip (nothing published).")]
    public MissingModelPolicy OnMissingModel { get; init; } = MissingModelPolicy.Fail;
}
