namespace Millrace.Storage;

/// <summary>
/// A committed output file not yet at its final lake path: its run and workflow, where it waits, where it goes,
/// when its workflow committed, and why the last attempt to publish it failed (null when none failed yet).
/// </summary>
public sealed record UnpublishedFile(string RunId, string Workflow, StagedFile File, DateTimeOffset? CommittedAt, string? Error);

/// <summary>
/// Dataset versions and the one transaction that commits a workflow's effects, then the files that commit still has
/// to publish, and every lake file a committed version lists (what gc keeps).
/// </summary>
public interface IDatasetStore
{
    /// <summary>The given version of a dataset, or its latest committed version when <paramref name="version"/> is null.</summary>
    Task<DatasetVersion?> GetDatasetVersionAsync(string dataset, int? version, CancellationToken ct);
    Task<IReadOnlyList<DatasetVersion>> ListDatasetVersionsAsync(string dataset, CancellationToken ct);
    /// <summary>Every dataset with its latest version.</summary>
    Task<IReadOnlyList<DatasetVersion>> ListDatasetsAsync(CancellationToken ct);

    /// <summary>
    /// Commits a workflow run's effects (dataset versions, watermarks, model versions and aliases, staged files) in one
    /// transaction and marks the workflow committed. Throws <see cref="CommitConflictException"/> when a dataset's
    /// latest version is no longer the one the run based its new version on, or the run is no longer Running.
    /// </summary>
    Task CommitAsync(WorkflowCommit commit, CancellationToken ct);

    /// <summary>Every lake file that some committed dataset version lists (what gc must keep).</summary>
    Task<IReadOnlySet<string>> GetReferencedDatasetFilesAsync(CancellationToken ct);

    /// <summary>Staged files of committed workflows that were not yet moved to their final path (after a crash).</summary>
    Task<IReadOnlyList<(string RunId, StagedFile File)>> GetUnpublishedFilesAsync(CancellationToken ct);

    /// <summary>Every committed file still waiting to be published, in commit order (what <c>millrace publish list</c> shows).</summary>
    Task<IReadOnlyList<UnpublishedFile>> FindUnpublishedFilesAsync(CancellationToken ct);

    /// <summary>
    /// Marks published, without publishing them, the unpublished files a later commit (by commit time) also writes to
    /// the same final path: rolling them forward would put an older output over a newer one. Returns how many.
    /// </summary>
    Task<int> MarkSupersededFilesAsync(CancellationToken ct);
    Task MarkPublishedAsync(string runId, string stagingPath, CancellationToken ct);

    /// <summary>Records why publishing a committed file failed; it stays unpublished, and the next publish tries again.</summary>
    Task RecordPublishFailureAsync(string runId, string stagingPath, string error, CancellationToken ct);

    /// <summary>
    /// Gives up publishing the unpublished files of run <paramref name="runId"/>: they are marked discarded (and
    /// published, so nothing tries again). Returns the files discarded, for the caller to delete from staging.
    /// </summary>
    Task<IReadOnlyList<StagedFile>> DiscardUnpublishedFilesAsync(string runId, CancellationToken ct);
}
