namespace Millrace.Storage;

/// <summary>
/// A stale mark: what run <see cref="RunId"/> of <see cref="Pipeline"/> published for <see cref="RunDate"/> (its
/// committed dataset versions, output files and reports) is out of date, for <see cref="Reason"/>. It is open until a
/// later run of the same pipeline and date succeeds (<see cref="ClearedByRunId"/>, <see cref="ClearedAt"/>).
/// </summary>
public sealed record StaleMark(
    string Id,
    string ProjectId,
    string Pipeline,
    DateOnly RunDate,
    string RunId,
    string Reason,
    DateTimeOffset MarkedAt,
    string? ClearedByRunId = null,
    DateTimeOffset? ClearedAt = null)
{
    /// <summary>True while no later successful run has replaced the marked run's outputs.</summary>
    public bool Open => ClearedAt is null;
}

/// <summary>Stale marks on what a pipeline's runs published for a date (late or corrected data, or by hand).</summary>
public interface IStaleStore
{
    /// <summary>
    /// Marks stale, with <paramref name="reason"/> and the store's time, every succeeded run of
    /// <paramref name="pipeline"/> for <paramref name="runDate"/> that is neither marked already nor replaced by a later
    /// successful run (a run whose mark was cleared once is history, not marked again). Returns the new marks (none
    /// when the date has no such run). Two callers at once mark a run once.
    /// </summary>
    Task<IReadOnlyList<StaleMark>> MarkStaleAsync(string projectId, string pipeline, DateOnly runDate, string reason, CancellationToken ct);

    /// <summary>
    /// Clears the open marks of <paramref name="pipeline"/> and <paramref name="runDate"/> made before
    /// <paramref name="startedAt"/> (a mark made while the run ran may concern a file it did not see), recording
    /// <paramref name="runId"/> as what replaced them. Returns how many it cleared.
    /// </summary>
    Task<int> ClearStaleAsync(string projectId, string pipeline, DateOnly runDate, string runId, DateTimeOffset startedAt, CancellationToken ct);

    /// <summary>
    /// Every mark, open and cleared, of the project (one pipeline when <paramref name="pipeline"/> is set) whose run
    /// date is in [<paramref name="from"/>, <paramref name="to"/>] (either end open when null), by run date then time.
    /// </summary>
    Task<IReadOnlyList<StaleMark>> ListStaleAsync(string projectId, string? pipeline, DateOnly? from, DateOnly? to, CancellationToken ct);

    /// <summary>The open marks of these runs, by run id (runs without one are left out).</summary>
    Task<IReadOnlyDictionary<string, StaleMark>> GetOpenStaleMarksAsync(IReadOnlyCollection<string> runIds, CancellationToken ct);

    /// <summary>The versions of <paramref name="dataset"/> committed by a run with an open mark, with the mark.</summary>
    Task<IReadOnlyDictionary<int, StaleMark>> GetStaleDatasetVersionsAsync(string dataset, CancellationToken ct);
}
