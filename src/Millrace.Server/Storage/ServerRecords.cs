namespace Millrace.Server.Storage;

/// <summary>What the server remembers about a pipeline's schedule across restarts.</summary>
public sealed record ScheduleState
{
    public required string ProjectId { get; init; }
    public required string Pipeline { get; init; }
    public bool Paused { get; init; }
    /// <summary>Who paused or resumed it last, and when.</summary>
    public string? ChangedBy { get; init; }
    public DateTimeOffset? ChangedAt { get; init; }
    /// <summary>The scheduled time of the last fire.</summary>
    public DateTimeOffset? LastFireAt { get; init; }
    /// <summary>Up to when fire times were handled (fired, or skipped as misfires): missed fire times come after it.</summary>
    public DateTimeOffset? CheckedAt { get; init; }
}

/// <summary>What an API token may do; each role includes the ones before it.</summary>
public enum TokenRole
{
    /// <summary>Read projects, definitions, runs, logs, datasets, anomalies and schedules.</summary>
    Viewer,
    /// <summary>Also start, cancel, rerun, retry and backfill runs, and run a schedule now.</summary>
    Runner,
    /// <summary>Also pause and resume schedules, reload definitions and read the audit log.</summary>
    Admin,
}

/// <summary>An API token as stored: never the secret, only a salted hash of it.</summary>
public sealed record ApiToken
{
    /// <summary>The public part of the token, shown by <c>millrace token list</c>.</summary>
    public required string Id { get; init; }
    public required string ProjectId { get; init; }
    public required TokenRole Role { get; init; }
    public string? Name { get; init; }
    /// <summary>Random salt (hex) and HMAC-SHA256(salt, secret) (hex).</summary>
    public required string Salt { get; init; }
    public required string Hash { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    public DateTimeOffset? LastUsedAt { get; init; }
}

/// <summary>One state-changing call: who (token id or "cli:user"), what, on what, when, and how it ended.</summary>
public sealed record AuditEntry
{
    public long Id { get; init; }
    public required DateTimeOffset At { get; init; }
    public string? ProjectId { get; init; }
    public required string Actor { get; init; }
    /// <summary>The user name the caller gave (Sparkflows' <c>userName</c>), as given: not verified.</summary>
    public string? UserName { get; init; }
    /// <summary>What was asked, e.g. <c>POST /executePipeline</c> or <c>token.create</c>.</summary>
    public required string Action { get; init; }
    /// <summary>What it was done to: a pipeline, a run id, a token id.</summary>
    public string? Target { get; init; }
    /// <summary>The HTTP status of the answer (0 for CLI actions that succeeded).</summary>
    public required int Outcome { get; init; }
    public string? DetailsJson { get; init; }
    public string? RemoteAddress { get; init; }
}

/// <summary>Where a webhook delivery is.</summary>
public enum DeliveryStatus { Pending, Delivered, Failed }

/// <summary>One webhook delivery: the event, where it goes, its payload and every attempt's outcome.</summary>
public sealed record NotificationDelivery
{
    public required string Id { get; init; }
    public required string ProjectId { get; init; }
    public string? RunId { get; init; }
    /// <summary>run.succeeded, run.failed or anomaly.</summary>
    public required string Event { get; init; }
    public required string Url { get; init; }
    /// <summary>The secret as written in the definitions (usually <c>${env:NAME}</c>), expanded at send time.</summary>
    public required string SecretRef { get; init; }
    public required string PayloadJson { get; init; }
    public required DeliveryStatus Status { get; init; }
    public required int Attempts { get; init; }
    public DateTimeOffset? NextAttemptAt { get; init; }
    public DateTimeOffset? LastAttemptAt { get; init; }
    public int? LastStatusCode { get; init; }
    public string? LastError { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }
}
