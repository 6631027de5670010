namespace Millrace.Storage;

/// <summary>A drift measurement of one feature (or of the model's scores) in one run.</summary>
public sealed record DriftResult(string RunId, string Workflow, string StepId, string Feature, double Psi, string Reference, DateTimeOffset CreatedAt);

/// <summary>What data-quality and drift steps record and read: anomalies, drift results and a step's earlier executions.</summary>
public interface IQualityStore
{
    /// <summary>Records an anomaly at once (not with the commit: a failed run's findings matter most).</summary>
    Task AddAnomalyAsync(Anomaly anomaly, CancellationToken ct);
    Task<IReadOnlyList<Anomaly>> FindAnomaliesAsync(string? runId, Page page, CancellationToken ct);

    /// <summary>Anomalies newest first, of one run (<paramref name="runId"/>) and of one kind (<paramref name="kind"/>, such as <c>deadline_missed</c>) when given.</summary>
    Task<IReadOnlyList<Anomaly>> FindAnomaliesAsync(string? runId, string? kind, Page page, CancellationToken ct);

    /// <summary>
    /// The recent history of a step: (run date, details JSON) of its succeeded executions in workflow runs that
    /// committed (a batch of a run that failed later is processed again by its rerun, and must not count twice),
    /// newest run date first, excluding <paramref name="excludeRunId"/>. Volume checks read their earlier batch sizes from it.
    /// </summary>
    Task<IReadOnlyList<(DateOnly RunDate, string? DetailsJson)>> GetStepHistoryAsync(string workflow, string stepId, string excludeRunId, int limit, CancellationToken ct);

    /// <summary>Records drift results (per feature) of a run.</summary>
    Task AddDriftResultsAsync(IReadOnlyList<DriftResult> results, CancellationToken ct);
    Task<IReadOnlyList<DriftResult>> GetDriftResultsAsync(string runId, CancellationToken ct);
}
