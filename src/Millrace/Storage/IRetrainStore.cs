namespace Millrace.Storage;

/// <summary>
/// One run's retrain decision (<c>retrain_when</c>): whether it asked for a training of
/// <see cref="RetrainPipeline"/>, why, the signals it was decided on and the training run it asked for.
/// </summary>
public sealed record RetrainRecord
{
    public required string RunId { get; init; }
    public required string ProjectId { get; init; }
    /// <summary>The pipeline of the run that decided.</summary>
    public required string Pipeline { get; init; }
    public required string RetrainPipeline { get; init; }
    public required bool Asked { get; init; }
    public required string Reason { get; init; }
    /// <summary>Which trigger asked (<c>drift</c> or <c>metric</c>); null when none did.</summary>
    public string? AskedBy { get; init; }
    /// <summary>The training run asked for (null when none was, or before it is recorded).</summary>
    public string? TriggeredRunId { get; init; }
    public double? Psi { get; init; }
    public string? WorstFeature { get; init; }
    public long DriftRows { get; init; }
    /// <summary>The champion's newest realized value of the watched metric.</summary>
    public double? Metric { get; init; }
    public int? ChampionVersion { get; init; }
    public required DateTimeOffset DecidedAt { get; init; }
}

/// <summary>The retrain decisions of runs (<see cref="RetrainRecord"/>).</summary>
public interface IRetrainStore
{
    /// <summary>
    /// In one write transaction: reads the last decision that asked for a training of <paramref name="retrainPipeline"/>
    /// in <paramref name="projectId"/> (null: none), lets <paramref name="decide"/> make the run's decision from it and
    /// records that. Two runs ending at once are serialized, so a cooldown holds across processes and nodes. A run
    /// that has a decision already keeps it (returned, <paramref name="decide"/> not called).
    /// </summary>
    Task<RetrainRecord> DecideRetrainAsync(string projectId, string retrainPipeline, string runId, Func<RetrainRecord?, RetrainRecord> decide, CancellationToken ct);

    /// <summary>Sets the training run a decision asked for.</summary>
    Task SetRetrainRunAsync(string runId, string triggeredRunId, CancellationToken ct);

    /// <summary>The decision of <paramref name="runId"/>, or null (its pipeline has no <c>retrain_when</c>, or it has not ended).</summary>
    Task<RetrainRecord?> GetRetrainDecisionAsync(string runId, CancellationToken ct);
}
