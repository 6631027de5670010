using Millrace.Storage;
using Millrace.Storage.Sql;

namespace Millrace.Server.Storage;

/// <summary>API tokens, as salted hashes: created by <c>millrace token</c>, checked on every request.</summary>
public interface ITokenStore
{
    Task CreateTokenAsync(ApiToken token, CancellationToken ct);
    Task<ApiToken?> GetTokenAsync(string tokenId, CancellationToken ct);
    Task<IReadOnlyList<ApiToken>> ListTokensAsync(CancellationToken ct);
    /// <summary>Revokes a token; false when there is no such token or it was already revoked.</summary>
    Task<bool> RevokeTokenAsync(string tokenId, DateTimeOffset at, CancellationToken ct);
    /// <summary>Records when a token was last used.</summary>
    Task TouchTokenAsync(string tokenId, DateTimeOffset at, CancellationToken ct);
}

/// <summary>The audit log of state-changing calls (API, UI and CLI token commands).</summary>
public interface IAuditStore
{
    Task AddAuditAsync(AuditEntry entry, CancellationToken ct);
    /// <summary>The audit log, newest first.</summary>
    Task<IReadOnlyList<AuditEntry>> FindAuditAsync(Page page, CancellationToken ct);
}

/// <summary>Webhook deliveries: each event's payload and every attempt's outcome, retried until delivered or failed.</summary>
public interface INotificationStore
{
    Task AddNotificationAsync(NotificationDelivery delivery, CancellationToken ct);
    Task UpdateNotificationAsync(NotificationDelivery delivery, CancellationToken ct);
    /// <summary>Pending deliveries whose next attempt is due at <paramref name="now"/>, oldest first.</summary>
    Task<IReadOnlyList<NotificationDelivery>> GetDueNotificationsAsync(DateTimeOffset now, int limit, CancellationToken ct);
    /// <summary>Deliveries (of one run, or all), newest first.</summary>
    Task<IReadOnlyList<NotificationDelivery>> FindNotificationsAsync(string? runId, Page page, CancellationToken ct);
}

/// <summary>What the scheduler keeps across restarts: whether each schedule is paused, and up to when fire times were handled.</summary>
public interface IScheduleStateStore
{
    /// <summary>
    /// The database the schedule state is in when several nodes share it (PostgreSQL): the clustered Quartz scheduler
    /// keeps its job store there. Null for an embedded store, where the scheduler keeps its jobs in memory.
    /// </summary>
    SharedDatabase? SharedDatabase { get; }

    Task<IReadOnlyList<ScheduleState>> GetScheduleStatesAsync(string projectId, CancellationToken ct);
    /// <summary>Pauses or resumes a schedule (kept across restarts).</summary>
    Task SetSchedulePausedAsync(string projectId, string pipeline, bool paused, string changedBy, DateTimeOffset at, CancellationToken ct);
    /// <summary>Records that fire times up to <paramref name="checkedAt"/> were handled, and the last fire if there was one; never moves backwards.</summary>
    Task MarkScheduleCheckedAsync(string projectId, string pipeline, DateTimeOffset checkedAt, DateTimeOffset? firedAt, CancellationToken ct);
}

/// <summary>
/// The server's own store, in the same database as the project's metadata store but in tables of its own migration
/// stream (<c>server_schema_migrations</c>): tokens, the audit log, webhook deliveries and schedule state.
/// </summary>
public interface IServerStore : ITokenStore, IAuditStore, INotificationStore, IScheduleStateStore
{
    /// <summary>Creates or upgrades the server's tables (adopting those a store made by an earlier version already has).</summary>
    Task MigrateAsync(CancellationToken ct);
}
