namespace Millrace.Storage;

/// <summary>Runs, their workflow and step runs, their logs and which process owns a running run.</summary>
public interface IRunStore
{
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
    Task<Run?> GetRunAsync(string runId, CancellationToken ct);
    Task<IReadOnlyList<Run>> FindRunsAsync(RunFilter filter, Page page, CancellationToken ct);

    /// <summary>
    /// The runs of <paramref name="target"/> in <paramref name="projectId"/> whose run date is from <paramref name="from"/>
    /// to <paramref name="to"/> (inclusive), one summary per date that has runs, oldest date first: counts by status
    /// and the run that speaks for the date. One query, whatever the length of the range.
    /// </summary>
    Task<IReadOnlyList<RunDateSummary>> ListRunDatesAsync(string projectId, string target, DateOnly from, DateOnly to, CancellationToken ct);

    /// <summary>
    /// Records a run's end (status, end time, error) only if the run is still Running: false, with nothing written,
    /// when another node took it over meanwhile (the takeover's record stands).
    /// </summary>
    Task<bool> FinishRunAsync(Run run, CancellationToken ct);

    Task SaveWorkflowRunAsync(WorkflowRun workflowRun, CancellationToken ct);
    Task<IReadOnlyList<WorkflowRun>> GetWorkflowRunsAsync(string runId, CancellationToken ct);

    Task SaveStepRunAsync(StepRun stepRun, CancellationToken ct);
    Task<IReadOnlyList<StepRun>> GetStepRunsAsync(string runId, CancellationToken ct);

    Task AppendLogAsync(string runId, DateTimeOffset at, string level, string? workflow, string? stepId, string message, CancellationToken ct);
    Task<IReadOnlyList<RunLog>> GetLogsAsync(string runId, CancellationToken ct);

    /// <summary>Sets which process owns a running run (host:pid:start).</summary>
    Task SetRunOwnerAsync(string runId, string owner, CancellationToken ct);
    /// <summary>Runs still marked running, with their owner, to find those whose process died.</summary>
    Task<IReadOnlyList<(Run Run, string? Owner)>> GetRunningRunsAsync(CancellationToken ct);
}
