namespace Millrace.Storage;

/// <summary>
/// How a queued run was asked for: which attempt it is (1 for a fresh request, more for automatic retries), the
/// earliest time it may start (a retry's backoff) and who asked (a token id, "schedule", "retry policy").
/// </summary>
public sealed record RunRequestInfo(int Attempt = 1, DateTimeOffset? NotBefore = null, string? RequestedBy = null, string? UserName = null);

/// <summary>A run waiting in the queue with its request.</summary>
public sealed record QueuedRun(Run Run, RunRequestInfo Request);

/// <summary>What claiming a queued run did.</summary>
public enum ClaimResult
{
    /// <summary>The run is now Running, owned by the caller.</summary>
    Claimed,
    /// <summary>The run is no longer queued: cancelled, or claimed by another node.</summary>
    NotQueued,
    /// <summary>The pipeline already has its <c>max_active</c> runs running (on any node); the run stays queued.</summary>
    Busy,
}
