using Millrace.Definitions.Options;

namespace Millrace.Steps;

/// <summary>What a step that needs a model does when the model (or alias) does not exist yet.</summary>
public enum MissingModelPolicy { Fail, Skip }

/// <summary>The options of a <c>predict</c> step.</summary>
public sealed record PredictOptions
{
    [Option("model", "The model version to score with: `name@champion`, `name@<alias>`, `name@vN`, or a bare name (its champion). Parameters allowed.", Required = true, Type = "name@alias | name@vN")]
    public string Model { get; init; } = "";

    [Option("drift_threshold", "Prediction drift: PSI of the batch's scores against the model's holdout scores above which a `prediction_drift` anomaly is recorded.", Minimum = 0, ExclusiveMinimum = true)]
    public double DriftThreshold { get; init; } = Quality.DriftProfile.DefaultThreshold;

    [Option("explain", "Explain each prediction: the N input columns (1 to 20) that moved its raw score most, as `reason_1` … `reason_N` (the column) and `reason_1_contribution` … (its signed contribution), largest first. Binary and regression models (LightGBM, FastTree, linear).", Minimum = 1, Maximum = 20, Default = "none")]
    public int? Explain { get; init; }

    [Option("on_missing_model", "When the model or alias does not exist yet: fail, or skip — an empty output and a warning (a first day, before any training).")]
    public MissingModelPolicy OnMissingModel { get; init; } = MissingModelPolicy.Fail;
}
