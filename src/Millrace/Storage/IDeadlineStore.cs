namespace Millrace.Storage;

/// <summary>Deadline and freshness misses (<c>deadline:</c>, <c>freshness:</c>), each recorded once however many nodes evaluate.</summary>
public interface IDeadlineStore
{
    /// <summary>
    /// Records <paramref name="miss"/> and its <paramref name="anomaly"/> in one transaction, unless a miss with the same
    /// project, pipeline, kind, run date and feed is recorded already: then nothing is written and the answer is false.
    /// </summary>
    Task<bool> TryRecordDeadlineMissAsync(DeadlineMiss miss, Anomaly anomaly, CancellationToken ct);

    /// <summary>Sets when a missed date was done after all, if not set yet; false when it was set already (or there is no such miss).</summary>
    Task<bool> MarkDeadlineMetAsync(DeadlineMiss miss, DateTimeOffset metAt, CancellationToken ct);

    /// <summary>Takes on sending the miss's webhooks: true for exactly one caller, the first.</summary>
    Task<bool> TryClaimDeadlineNotificationAsync(DeadlineMiss miss, DateTimeOffset at, CancellationToken ct);

    /// <summary>
    /// The misses of <paramref name="projectId"/> for run dates from <paramref name="from"/> to <paramref name="to"/>
    /// (inclusive), of one pipeline or (null) all, ordered by run date, pipeline, kind and feed.
    /// </summary>
    Task<IReadOnlyList<DeadlineMiss>> ListDeadlineMissesAsync(string projectId, string? pipeline, DateOnly from, DateOnly to, CancellationToken ct);
}
