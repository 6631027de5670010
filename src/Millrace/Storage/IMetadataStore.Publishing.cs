namespace Millrace.Storage;

/// <summary>
/// A committed output file not yet at its final lake path: its run and workflow, where it waits, where it goes,
/// when its workflow committed, and why the last attempt to publish it failed (null when none failed yet).
/// </summary>
public sealed record UnpublishedFile(string RunId, string Workflow, StagedFile File, DateTimeOffset? CommittedAt, string? Error);

public partial interface IMetadataStore
{
    /// <summary>Records why publishing a committed file failed; it stays unpublished, and the next publish tries again.</summary>
    Task RecordPublishFailureAsync(string runId, string stagingPath, string error, CancellationToken ct);

    /// <summary>Every committed file still waiting to be published, in commit order (what <c>millrace publish list</c> shows).</summary>
    Task<IReadOnlyList<UnpublishedFile>> FindUnpublishedFilesAsync(CancellationToken ct);

    /// <summary>
    /// Gives up publishing the unpublished files of run <paramref name="runId"/>: they are marked discarded (and
    /// published, so nothing tries again). Returns the files discarded, for the caller to delete from staging.
    /// </summary>
    Task<IReadOnlyList<StagedFile>> DiscardUnpublishedFilesAsync(string runId, CancellationToken ct);
}
