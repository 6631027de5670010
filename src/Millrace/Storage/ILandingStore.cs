namespace Millrace.Storage;

/// <summary>Where a date of a landing trigger is (docs/triggers.md).</summary>
public enum LandingState
{
    /// <summary>Some feed has no file for the date yet (<see cref="LandingDate.Missing"/> names them).</summary>
    Waiting,
    /// <summary>Every feed has files, but they changed less than <c>settle</c> ago.</summary>
    Settling,
    /// <summary>Landed and settled, but the run could not be requested yet (the note says why); the next poll tries again.</summary>
    Ready,
    /// <summary>A run was requested for the date's files (<see cref="LandingDate.RunId"/>).</summary>
    Started,
    /// <summary>Files were added, changed or removed after the date's run; they are settling before <c>on_late</c> applies.</summary>
    Late,
    /// <summary>Late files were recorded without a rerun (<c>on_late: ignore</c> or <c>mark_stale</c>).</summary>
    LateRecorded,
    /// <summary>The date's files kept changing for ten settle periods: reported, and not run on while they change.</summary>
    NeverSettling,
}

/// <summary>
/// One date of one pipeline's landing trigger, as the last poll saw it. <see cref="FilesetHash"/> identifies the set
/// of files (paths with ETags, or sizes and times) of every feed; <see cref="RunHash"/> is the fileset the date's last
/// run (or recorded late decision) was for, so a different hash is a late change. <see cref="Revision"/> counts the
/// writes: a save succeeds only over the revision it read, so two nodes polling at once never overwrite each other.
/// </summary>
public sealed record LandingDate
{
    public required string ProjectId { get; init; }
    public required string Pipeline { get; init; }
    public required DateOnly Date { get; init; }
    public required LandingState State { get; init; }
    /// <summary>The feeds (patterns as written) with no file for the date.</summary>
    public IReadOnlyList<string> Missing { get; init; } = [];
    public string? FilesetHash { get; init; }
    /// <summary>The files of the fileset: <c>path</c>, a tab, and its ETag or size and time.</summary>
    public IReadOnlyList<string> Files { get; init; } = [];
    /// <summary>When the poll first saw the current fileset (the settle period counts from here).</summary>
    public DateTimeOffset? ChangedAt { get; init; }
    /// <summary>When the files, all present, began changing without settling since (never-settling counts from here).</summary>
    public DateTimeOffset? UnsettledSince { get; init; }
    public string? RunId { get; init; }
    public string? RunHash { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public string? Note { get; init; }
    public long Revision { get; init; }
}

/// <summary>The per-date state of landing triggers; it survives restarts and is shared by the nodes of a cluster.</summary>
public interface ILandingStore
{
    /// <summary>The dates of <paramref name="pipeline"/>'s trigger from <paramref name="from"/> to <paramref name="to"/> (inclusive), by date.</summary>
    Task<IReadOnlyList<LandingDate>> ListLandingDatesAsync(string projectId, string pipeline, DateOnly from, DateOnly to, CancellationToken ct);

    /// <summary>The dates not yet run or whose late files are not yet handled (every state but started and late_recorded), by date.</summary>
    Task<IReadOnlyList<LandingDate>> ListOpenLandingDatesAsync(string projectId, string pipeline, CancellationToken ct);

    /// <summary>The newest date recorded for <paramref name="pipeline"/>'s trigger, or null.</summary>
    Task<DateOnly?> GetNewestLandingDateAsync(string projectId, string pipeline, CancellationToken ct);

    /// <summary>
    /// Writes <paramref name="date"/> if the stored revision is still <see cref="LandingDate.Revision"/> (0: not stored yet)
    /// and stores it as the next revision. False when another writer came first: nothing is written.
    /// </summary>
    Task<bool> SaveLandingDateAsync(LandingDate date, CancellationToken ct);
}
