namespace Millrace.Storage;

/// <summary>Which predictions a point measures: the ones served (champion) or the ones scored beside them (shadow).</summary>
public enum PredictionVariant { Champion, Shadow }

/// <summary>
/// One realized-performance point: the predictions <see cref="Model"/> v<see cref="Version"/> made for
/// <see cref="ScoreDate"/>, joined with the labels known when <see cref="RunId"/> evaluated them.
/// </summary>
public sealed record PerformancePoint
{
    public required string ProjectId { get; init; }
    public required string Model { get; init; }
    public required int Version { get; init; }
    public required PredictionVariant Variant { get; init; }
    /// <summary>The run date of the predictions (the date they were scored for).</summary>
    public required DateOnly ScoreDate { get; init; }
    /// <summary>The task's metrics by name (<c>auc</c>, <c>pr_auc</c>, <c>log_loss</c>, <c>rmse</c>, …); empty when no row had a label yet.</summary>
    public required IReadOnlyDictionary<string, double> Metrics { get; init; }
    /// <summary>The predictions of the date.</summary>
    public required long ScoredRows { get; init; }
    /// <summary>The predictions of the date that a label matched.</summary>
    public required long LabelledRows { get; init; }
    /// <summary>The evaluating run.</summary>
    public required string RunId { get; init; }
    public required DateTimeOffset RecordedAt { get; init; }

    /// <summary>The share of the date's predictions with a label (0 when none were scored).</summary>
    public double Coverage => ScoredRows == 0 ? 0 : (double)LabelledRows / ScoredRows;
}
