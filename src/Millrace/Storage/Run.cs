namespace Millrace.Storage;

/// <summary>
/// Where a run is in its life. <see cref="UpToDate"/>: a workflow whose inputs were the same as at its last successful
/// run was not run again (its earlier outputs stand); a pipeline run whose workflows were all up to date ends so.
/// </summary>
public enum RunStatus { Queued, Running, Succeeded, Failed, Cancelled, Skipped, UpToDate }

/// <summary>Status helpers.</summary>
public static class RunStatuses
{
    /// <summary>Succeeded or up to date: the run's target has current outputs for its run date.</summary>
    public static bool IsSuccess(this RunStatus status) => status is RunStatus.Succeeded or RunStatus.UpToDate;

    /// <summary>The status as people read it: "succeeded", "up to date".</summary>
    public static string Label(this RunStatus status) => status == RunStatus.UpToDate ? "up to date" : status.ToString().ToLowerInvariant();
}

/// <summary>What started a run.</summary>
public enum TriggerKind { Cli, Api, Schedule, Backfill, Retry, Rerun, Drift, Landing }

/// <summary>
/// One execution of a pipeline or a single workflow: the audit record. <see cref="Parameters"/> holds the values
/// supplied by the trigger (not defaults), so a rerun reproduces the original request.
/// </summary>
public sealed record Run
{
    public required string Id { get; init; }
    public required string ProjectId { get; init; }
    /// <summary>The pipeline or workflow name.</summary>
    public required string Target { get; init; }
    /// <summary>"pipeline" or "workflow".</summary>
    public required string TargetKind { get; init; }
    public required TriggerKind Trigger { get; init; }
    public required RunStatus Status { get; init; }
    public required IReadOnlyList<KeyValuePair<string, string>> Parameters { get; init; }
    public required DateOnly RunDate { get; init; }
    public required string DefinitionsHash { get; init; }
    public string? RunKey { get; init; }
    public string? ParentRunId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public string? Error { get; init; }

    public TimeSpan? Duration => StartedAt is { } s && EndedAt is { } e ? e - s : null;
}

/// <summary>One step's execution inside a run.</summary>
public sealed record StepRun
{
    public required string RunId { get; init; }
    public required string Workflow { get; init; }
    public required string StepId { get; init; }
    public required string Kind { get; init; }
    public required RunStatus Status { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public long? Rows { get; init; }
    public string? Error { get; init; }
    /// <summary>Step-specific figures as JSON (files read, dataset version written, …).</summary>
    public string? DetailsJson { get; init; }

    public TimeSpan? Duration => StartedAt is { } s && EndedAt is { } e ? e - s : null;
}

/// <summary>One workflow's execution inside a pipeline run; <see cref="CommittedAt"/> is set by its commit.</summary>
public sealed record WorkflowRun
{
    public required string RunId { get; init; }
    public required string Workflow { get; init; }
    public required int Position { get; init; }
    public required RunStatus Status { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public DateTimeOffset? CommittedAt { get; init; }
}

/// <summary>A log line kept with its run.</summary>
public sealed record RunLog(string RunId, long Sequence, DateTimeOffset At, string Level, string? Workflow, string? StepId, string Message);

/// <summary>Which runs to list.</summary>
public sealed record RunFilter(string? ProjectId = null, string? Target = null, RunStatus? Status = null, DateOnly? RunDate = null);

/// <summary>A page of a listing: newest first.</summary>
public sealed record Page(int Offset = 0, int Limit = 50);
