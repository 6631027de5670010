namespace Millrace.Storage;

/// <summary>What a model predicts.</summary>
public enum ModelTask { Binary, Multiclass, Regression }

/// <summary>How one input column feeds a model: its DuckDB type and how it is featurized.</summary>
public sealed record FeatureColumn(string Name, string Type, string Role, string Encoding);

/// <summary>
/// A registered model version: the ML.NET model file in the lake (<c>models/&lt;name&gt;/v&lt;N&gt;/model.zip</c>) and
/// what it takes to trust and reuse it: metrics on its holdout, options, feature schema, the dataset versions it was
/// trained on, the run and definitions that made it.
/// </summary>
public sealed record ModelVersion
{
    public required string Name { get; init; }
    public required int Version { get; init; }
    public required string RunId { get; init; }
    public required string Workflow { get; init; }
    public required string StepId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required ModelTask Task { get; init; }
    public required string Algorithm { get; init; }
    public required string Label { get; init; }
    /// <summary>Lake-relative path of the model file.</summary>
    public required string Path { get; init; }
    public required IReadOnlyDictionary<string, double> Metrics { get; init; }
    public required IReadOnlyDictionary<string, string> Options { get; init; }
    public required IReadOnlyList<FeatureColumn> Features { get; init; }
    /// <summary>Dataset versions the training data came from, e.g. <c>customer_features@v12</c>.</summary>
    public required IReadOnlyList<string> Datasets { get; init; }
    /// <summary>Feature importance by input column (gain for tree models, |weight| for linear ones), largest first.</summary>
    public required IReadOnlyList<KeyValuePair<string, double>> Importance { get; init; }
    public required string DefinitionsHash { get; init; }
    public required long TrainRows { get; init; }
    public required long HoldoutRows { get; init; }
    /// <summary>
    /// The distributions the model was trained on (per feature) and of its scores on the holdout (feature
    /// <c>__prediction__</c>): the reference for drift against the champion.
    /// </summary>
    public IReadOnlyList<Quality.FeatureProfile> Profile { get; init; } = [];
    /// <summary>
    /// A hash of what the version was trained on (the training rows, algorithm, options, features, label, validation):
    /// a train step with the same fingerprint as the model's latest version registers no copy. Null before it was kept.
    /// </summary>
    public string? TrainingFingerprint { get; init; }
}

/// <summary>A change of alias to record: point <see cref="Alias"/> at <see cref="Version"/> (null removes it), if it still points at <see cref="Expected"/>.</summary>
public sealed record AliasChange(string Model, string Alias, int? Version, int? Expected, string Actor, string Reason);

/// <summary>One recorded alias change.</summary>
public sealed record AliasHistoryEntry(string Model, string Alias, int? Version, int? PreviousVersion, DateTimeOffset At, string? RunId, string Actor, string Reason);
