namespace Millrace.Storage;

/// <summary>What the server keeps: the run queue, schedule state, API tokens, the audit log and webhook deliveries.</summary>
public partial interface IMetadataStore
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

    Task<IReadOnlyList<ScheduleState>> GetScheduleStatesAsync(string projectId, CancellationToken ct);
    /// <summary>Pauses or resumes a schedule (kept across restarts).</summary>
    Task SetSchedulePausedAsync(string projectId, string pipeline, bool paused, string changedBy, DateTimeOffset at, CancellationToken ct);
    /// <summary>Records that fire times up to <paramref name="checkedAt"/> were handled, and the last fire if there was one.</summary>
    Task MarkScheduleCheckedAsync(string projectId, string pipeline, DateTimeOffset checkedAt, DateTimeOffset? firedAt, CancellationToken ct);

    Task CreateTokenAsync(ApiToken token, CancellationToken ct);
    Task<ApiToken?> GetTokenAsync(string tokenId, CancellationToken ct);
    Task<IReadOnlyList<ApiToken>> ListTokensAsync(CancellationToken ct);
    /// <summary>Revokes a token; false when there is no such token or it was already revoked.</summary>
    Task<bool> RevokeTokenAsync(string tokenId, DateTimeOffset at, CancellationToken ct);
    Task TouchTokenAsync(string tokenId, DateTimeOffset at, CancellationToken ct);

    Task AddAuditAsync(AuditEntry entry, CancellationToken ct);
    /// <summary>The audit log, newest first.</summary>
    Task<IReadOnlyList<AuditEntry>> FindAuditAsync(Page page, CancellationToken ct);

    Task AddNotificationAsync(NotificationDelivery delivery, CancellationToken ct);
    Task UpdateNotificationAsync(NotificationDelivery delivery, CancellationToken ct);
    /// <summary>Pending deliveries whose next attempt is due at <paramref name="now"/>, oldest first.</summary>
    Task<IReadOnlyList<NotificationDelivery>> GetDueNotificationsAsync(DateTimeOffset now, int limit, CancellationToken ct);
    /// <summary>Deliveries (of one run, or all), newest first.</summary>
    Task<IReadOnlyList<NotificationDelivery>> FindNotificationsAsync(string? runId, Page page, CancellationToken ct);
}
