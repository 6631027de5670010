namespace Millrace.Storage;

/// <summary>
/// The run queue: run requests, claiming a queued run under a pipeline's <c>max_active</c>, cancelling queued runs,
/// and asking the node that executes a running run to cancel it.
/// </summary>
public interface IRunQueueStore
{
    /// <summary>
    /// Records a run request: the run (usually Queued, or Skipped by an overlap policy) and its request row, in one
    /// transaction. When the run carries a run key already used for the same project and target, nothing is written
    /// and the existing run is returned.
    /// </summary>
    Task<Run> EnqueueRunAsync(Run run, RunRequestInfo request, CancellationToken ct);

    /// <summary>
    /// Takes a queued run for this process: Queued becomes Running with <paramref name="owner"/> and the start time.
    /// False when the run is no longer queued (cancelled, or taken by another process).
    /// </summary>
    Task<bool> ClaimQueuedRunAsync(string runId, string owner, DateTimeOffset startedAt, CancellationToken ct);

    /// <summary>
    /// Like <see cref="ClaimQueuedRunAsync(string, string, DateTimeOffset, CancellationToken)"/>, and with
    /// <paramref name="maxActive"/> refuses (<see cref="ClaimResult.Busy"/>) while that many runs of the same project
    /// and target are Running, counted and claimed in one write transaction: nodes sharing the store together never
    /// exceed a pipeline's <c>concurrency.max_active</c>.
    /// </summary>
    Task<ClaimResult> ClaimQueuedRunAsync(string runId, string owner, DateTimeOffset startedAt, int? maxActive, CancellationToken ct);

    /// <summary>Every run still Queued, oldest first, with its request.</summary>
    Task<IReadOnlyList<QueuedRun>> GetQueuedRunsAsync(CancellationToken ct);

    /// <summary>How a run was requested, or null for runs started directly (the CLI).</summary>
    Task<RunRequestInfo?> GetRunRequestAsync(string runId, CancellationToken ct);

    /// <summary>Marks a queued run Cancelled with <paramref name="reason"/>; false when it was not queued any more.</summary>
    Task<bool> CancelQueuedRunAsync(string runId, string reason, CancellationToken ct);

    /// <summary>
    /// Asks the node that executes <paramref name="runId"/> to cancel it (the owner polls for requests): false when the
    /// run is not Running.
    /// </summary>
    Task<bool> RequestCancelAsync(string runId, string reason, CancellationToken ct);

    /// <summary>The Running runs owned by <paramref name="owner"/> that another node asked to cancel, with the reason.</summary>
    Task<IReadOnlyList<(string RunId, string Reason)>> GetCancelRequestsAsync(string owner, CancellationToken ct);

    /// <summary>Runs of a project's target that are Queued or Running, on any node.</summary>
    Task<int> CountActiveRunsAsync(string projectId, string target, CancellationToken ct);
}
