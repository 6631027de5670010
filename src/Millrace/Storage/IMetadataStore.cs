namespace Millrace.Storage;

/// <summary>
/// The metadata store: runs, step runs, logs and dataset versions. SQLite is the embedded default
/// (<see cref="SqliteMetadataStore"/>); every implementation passes the same contract tests.
/// </summary>
public partial interface IMetadataStore : IAsyncDisposable
{
    /// <summary>Creates or upgrades the schema by applying the numbered migrations not yet applied.</summary>
    Task MigrateAsync(CancellationToken ct);

    /// <summary>
    /// Records a new run. When the run carries a <see cref="Run.RunKey"/> already used for the same project and
    /// target, nothing is written and the existing run is returned.
    /// </summary>
    Task<Run> CreateRunAsync(Run run, CancellationToken ct);

    /// <summary>
    /// Records a new run and the process that owns it (<c>host|pid|start</c>) in one write, so that no kill can leave a
    /// running run without an owner. A null owner is <see cref="CreateRunAsync(Run, CancellationToken)"/>.
    /// </summary>
    Task<Run> CreateRunAsync(Run run, string? owner, CancellationToken ct);

    /// <summary>
    /// Like <see cref="CreateRunAsync(Run, string?, CancellationToken)"/> for a Running run, and refuses (null, nothing
    /// written) while <paramref name="maxActive"/> runs of the same project and target are Running, counted and recorded
    /// in one write transaction, as <c>ClaimQueuedRunAsync</c> counts: a CLI run and the server's runs together never
    /// exceed a pipeline's <c>concurrency.max_active</c>.
    /// </summary>
    Task<Run?> TryCreateRunAsync(Run run, string owner, int maxActive, CancellationToken ct);
    Task UpdateRunAsync(Run run, CancellationToken ct);
    Task<Run?> GetRunAsync(string runId, CancellationToken ct);
    Task<IReadOnlyList<Run>> FindRunsAsync(RunFilter filter, Page page, CancellationToken ct);

    Task SaveWorkflowRunAsync(WorkflowRun workflowRun, CancellationToken ct);
    Task<IReadOnlyList<WorkflowRun>> GetWorkflowRunsAsync(string runId, CancellationToken ct);

    Task SaveStepRunAsync(StepRun stepRun, CancellationToken ct);
    Task<IReadOnlyList<StepRun>> GetStepRunsAsync(string runId, CancellationToken ct);

    Task AppendLogAsync(string runId, DateTimeOffset at, string level, string? workflow, string? stepId, string message, CancellationToken ct);
    Task<IReadOnlyList<RunLog>> GetLogsAsync(string runId, CancellationToken ct);

    /// <summary>The given version of a dataset, or its latest committed version when <paramref name="version"/> is null.</summary>
    Task<DatasetVersion?> GetDatasetVersionAsync(string dataset, int? version, CancellationToken ct);
    Task<IReadOnlyList<DatasetVersion>> ListDatasetVersionsAsync(string dataset, CancellationToken ct);
    /// <summary>Every dataset with its latest version.</summary>
    Task<IReadOnlyList<DatasetVersion>> ListDatasetsAsync(CancellationToken ct);

    /// <summary>
    /// Commits a workflow run's effects in one transaction and marks the workflow committed. Throws
    /// <see cref="CommitConflictException"/> when a dataset's latest version is no longer the one the run based its
    /// new version on.
    /// </summary>
    Task CommitAsync(WorkflowCommit commit, CancellationToken ct);

    /// <summary>The files an incremental read step has committed, by path.</summary>
    Task<IReadOnlyDictionary<string, WatermarkFile>> GetWatermarkAsync(string workflow, string stepId, CancellationToken ct);

    /// <summary>Records an anomaly at once (not with the commit: a failed run's findings matter most).</summary>
    Task AddAnomalyAsync(Anomaly anomaly, CancellationToken ct);
    Task<IReadOnlyList<Anomaly>> FindAnomaliesAsync(string? runId, Page page, CancellationToken ct);

    /// <summary>Sets which process owns a running run (host:pid:start).</summary>
    Task SetRunOwnerAsync(string runId, string owner, CancellationToken ct);
    /// <summary>Runs still marked running, with their owner, to find those whose process died.</summary>
    Task<IReadOnlyList<(Run Run, string? Owner)>> GetRunningRunsAsync(CancellationToken ct);

    /// <summary>Every lake file that some committed dataset version lists (what gc must keep).</summary>
    Task<IReadOnlySet<string>> GetReferencedDatasetFilesAsync(CancellationToken ct);

    /// <summary>Staged files of committed workflows that were not yet moved to their final path (after a crash).</summary>
    Task<IReadOnlyList<(string RunId, StagedFile File)>> GetUnpublishedFilesAsync(CancellationToken ct);

    /// <summary>
    /// Marks published, without publishing them, the unpublished files a later commit (by commit time) also writes to
    /// the same final path: rolling them forward would put an older output over a newer one. Returns how many.
    /// </summary>
    Task<int> MarkSupersededFilesAsync(CancellationToken ct);
    Task MarkPublishedAsync(string runId, string stagingPath, CancellationToken ct);
}
