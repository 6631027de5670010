using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Millrace.Definitions;
using Millrace.Lake;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>A request to run a pipeline or a single workflow.</summary>
public sealed record RunRequest(
    string Target,
    IReadOnlyList<KeyValuePair<string, string>> Variables,
    TriggerKind Trigger = TriggerKind.Cli,
    string? RunKey = null,
    string? ParentRunId = null)
{
    /// <summary>Workflows already committed by the run being retried: they are not run again.</summary>
    public IReadOnlySet<string> CommittedWorkflows { get; init; } = new HashSet<string>();
}

/// <summary>The target or parameters of a request are wrong; nothing ran and no run was recorded.</summary>
public sealed class RunRequestException(string message) : Exception(message);

/// <summary>
/// Owns one run from its record to its end: resolves the target, binds parameters, records the run, executes its
/// workflows in order (stopping at the first that does not succeed) and records its end; when and whether a run
/// starts, and what follows its end, is the <see cref="RunCoordinator"/>'s.
/// </summary>
public sealed partial class Runner(ProjectDefinition project, IMetadataStore store, StepCatalog? catalog = null, ILogger? logger = null)
{
    readonly StepCatalog _catalog = catalog ?? StepCatalog.Default;
    readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>DuckDB threads per run (null = all cores).</summary>
    public int? DuckDbThreads { get; init; }

    /// <summary>
    /// Opens the lake a run works on (default <see cref="LakeRoot.Open"/>). A seam for tests: a lake whose storage acts
    /// between listing and reading, as a producer still writing a file would.
    /// </summary>
    public Func<ProjectDefinition, LakeRoot>? OpenLake { get; init; }

    /// <summary>The parameters a target declares: the project's, the pipeline's and its workflows'.</summary>
    public IReadOnlyDictionary<string, ParameterDefinition> DeclaredParameters(string target)
    {
        var (_, workflows, pipeline) = Resolve(target);
        var declared = new Dictionary<string, ParameterDefinition>(project.Parameters, StringComparer.Ordinal);
        foreach (var workflow in workflows)
            foreach (var (name, definition) in workflow.Parameters) declared[name] = definition;
        if (pipeline is not null)
            foreach (var (name, definition) in pipeline.Parameters) declared[name] = definition;
        return declared;
    }

    /// <summary>
    /// Checks <paramref name="request"/> (target, parameters) and returns the run it would record, with a new id and
    /// <paramref name="status"/>, without recording it. The server records it as Queued and runs it later with
    /// <see cref="ExecuteAsync(Run, IRunObserver?, RunControl?, CancellationToken)"/>. Bad targets and parameters throw
    /// <see cref="RunRequestException"/>.
    /// </summary>
    public Run Prepare(RunRequest request, RunStatus status = RunStatus.Queued)
    {
        var (kind, _, _) = Resolve(request.Target);
        var now = Clock.GetUtcNow();
        var runId = NewRunId(now);
        var parameters = Bind(request.Target, request.Variables, runId, DateOnly.FromDateTime(now.UtcDateTime), now);
        return new Run
        {
            Id = runId,
            ProjectId = project.Id,
            Target = request.Target,
            TargetKind = kind,
            Trigger = request.Trigger,
            Status = status,
            Parameters = request.Variables,
            RunDate = (DateOnly)parameters[BuiltInParameters.RunDate].Value,
            DefinitionsHash = project.DefinitionsHash,
            RunKey = request.RunKey,
            ParentRunId = request.ParentRunId,
            CreatedAt = now,
            StartedAt = status == RunStatus.Running ? now : null,
        };
    }

    /// <summary>
    /// Runs <paramref name="request"/> to its end and returns the recorded run, with no policy (no limit, no retry, no
    /// retraining: the <see cref="RunCoordinator"/> applies those). When the request carries a run key already used,
    /// the existing run is returned and nothing runs. Bad targets and parameters throw <see cref="RunRequestException"/>
    /// before anything is recorded.
    /// </summary>
    public async Task<Run> RunAsync(RunRequest request, IRunObserver? observer = null, CancellationToken ct = default)
    {
        var run = Prepare(request, RunStatus.Running);
        var recorded = (await RecordAsync(run, null, ct))!;
        if (recorded.Id != run.Id) return recorded;
        return (await ExecuteAsync(recorded, observer, null, ct)).Run;
    }

    /// <summary>
    /// Records <paramref name="run"/> (prepared as Running) owned by this process, after marking runs whose process
    /// died as interrupted. With <paramref name="maxActive"/>, refuses (null, nothing written) while that many runs of
    /// its target are Running in the store, on any node or process. The answer is an earlier run (another id) when the
    /// run key was used before or the run resumes a run already retried.
    /// </summary>
    public async Task<Run?> RecordAsync(Run run, int? maxActive, CancellationToken ct)
    {
        await RecoverInterruptedAsync(ct);
        // The run and its owner in one write: a kill right after it leaves a run that recovery can tell is dead.
        var recorded = maxActive is { } limit
            ? await store.TryCreateRunAsync(run, Node.Owner, limit, ct)
            : await store.CreateRunAsync(run, Node.Owner, ct);
        if (recorded is not null && recorded.Id == run.Id) Faults.Hit("run.created");
        return recorded;
    }

    /// <summary>
    /// Executes a run that is already recorded and claimed (status Running, e.g. a queued run the server took): its
    /// workflows in order, with the pipeline's timeout. A retry (trigger <see cref="TriggerKind.Retry"/>) skips the
    /// workflows its parent committed. <paramref name="control"/> stops it from outside with a recorded reason;
    /// <paramref name="ct"/> cancels it (recorded "cancelled"). The result carries the kind of its failure.
    /// </summary>
    public async Task<RunResult> ExecuteAsync(Run run, IRunObserver? observer = null, RunControl? control = null, CancellationToken ct = default)
    {
        var committed = run.Trigger == TriggerKind.Retry && run.ParentRunId is not null
            ? await CommittedWorkflowsAsync(run.ParentRunId, CancellationToken.None)
            : new HashSet<string>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, control?.Token ?? CancellationToken.None);
        return await ExecuteCoreAsync(run, committed, observer ?? NullRunObserver.Instance, control, stop.Token);
    }

    async Task<RunResult> ExecuteCoreAsync(Run run, IReadOnlySet<string> committedWorkflows, IRunObserver observer, RunControl? control, CancellationToken ct)
    {
        var started = run.StartedAt ?? Clock.GetUtcNow();
        run = run with { Status = RunStatus.Running, StartedAt = started };
        IReadOnlyList<WorkflowDefinition> workflows;
        PipelineDefinition? pipeline;
        IReadOnlyDictionary<string, ParameterValue> parameters;
        try
        {
            // Definitions may have changed since a queued run was checked: check again against what runs now.
            (_, workflows, pipeline) = Resolve(run.Target);
            parameters = Bind(run.Target, run.Parameters, run.Id, run.RunDate, started);
        }
        catch (RunRequestException e)
        {
            run = run with { Status = RunStatus.Failed, EndedAt = Clock.GetUtcNow(), Error = e.Message };
            if (!await RecordEndAsync(run)) return await TakenOverAsync(run, observer, null);
            await store.AppendLogAsync(run.Id, Clock.GetUtcNow(), "error", null, null, $"run {run.Id} failed before it started: {e.Message}", CancellationToken.None);
            observer.RunFinished(run);
            return new RunResult(run, FailureKind.InvalidRequest);
        }

        var lake = OpenLake?.Invoke(project) ?? LakeRoot.Open(project);
        var context = new RunContext
        {
            RunId = run.Id, Project = project, Store = store, Lake = lake, Catalog = _catalog, Parameters = parameters,
            Observer = observer, Logger = _logger, DuckDbThreads = DuckDbThreads, Clock = Clock, Faults = Faults,
        };
        observer.RunStarted(run, workflows.Select(w => (w.Name, w.Steps.Count)).ToList());

        // The timeout counts from the start of the run (not from when it was queued).
        using var timeout = pipeline?.Timeout is { } limit ? new CancellationTokenSource(TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, (limit - (Clock.GetUtcNow() - started)).Ticks)), Clock) : null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout?.Token ?? CancellationToken.None);
        var status = RunStatus.Succeeded;
        var upToDate = 0;
        string? error = null;
        FailureKind? failure = null;
        try
        {
            await context.LogAsync("info", null, null, $"run {run.Id} of {run.TargetKind} '{run.Target}' started ({run.Trigger}); run.date={run.RunDate:yyyy-MM-dd}", CancellationToken.None);
            // Roll forward any commit whose files a crash left in staging before this run reads the lake.
            // A commit whose files cannot be published is reported here, never a reason to fail this run.
            foreach (var stuck in await Publisher.PublishAsync(store, lake, null, stop.Token))
                await context.LogAsync("warn", null, null, $"output '{stuck.File.FinalPath}' committed by run {stuck.RunId} is still unpublished ({stuck.Error}); see 'millrace publish list'", CancellationToken.None);
            var executor = new WorkflowExecutor(context);
            for (var i = 0; i < workflows.Count && status == RunStatus.Succeeded; i++)
            {
                if (committedWorkflows.Contains(workflows[i].Name))
                {
                    var now = Clock.GetUtcNow();
                    await store.SaveWorkflowRunAsync(new WorkflowRun { RunId = run.Id, Workflow = workflows[i].Name, Position = i, Status = RunStatus.Skipped, StartedAt = now, EndedAt = now }, CancellationToken.None);
                    await context.LogAsync("info", workflows[i].Name, null, $"workflow '{workflows[i].Name}' was committed by run {run.ParentRunId}; reusing its commit", CancellationToken.None);
                    continue;
                }
                var (workflowStatus, workflowError, workflowFailure) = await executor.ExecuteAsync(workflows[i], i, stop.Token);
                if (workflowStatus == RunStatus.UpToDate) { upToDate++; continue; }
                (status, failure) = (workflowStatus, workflowFailure);
                if (workflowError is not null) error = workflows.Count > 1 ? $"workflow '{workflows[i].Name}': {workflowError}" : workflowError;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            status = RunStatus.Cancelled;
        }
        catch (LakeStorageException e)
        {
            // Rolling earlier commits forward needs the lake; without it nothing of this run started.
            (status, error, failure) = (RunStatus.Failed, e.Message, FailureKind.StepFailed);
        }
        catch (Exception e) when (StoreFailures.IsStoreFailure(e))
        {
            // The store could not be written (locked past the busy timeout, a full disk): the run fails with that cause.
            (status, error, failure) = (RunStatus.Failed, StoreFailures.Describe(e), FailureKind.StoreFailure);
        }
        if (status == RunStatus.Cancelled)
        {
            if (control?.StopStatus is { } stopStatus) (status, error, failure) = (stopStatus, control.StopReason, control.StopKind);
            else if (timeout?.IsCancellationRequested == true && !ct.IsCancellationRequested)
                (status, error, failure) = (RunStatus.Failed, $"timed out: the run took longer than its timeout of {FormatDuration(pipeline!.Timeout!.Value)} ({pipeline.Location.File}); nothing after its last committed workflow is visible", FailureKind.Timeout);
            else (error, failure) = ("cancelled", FailureKind.Cancelled);
        }
        // A run whose every workflow was up to date changed nothing: it ends up to date, not succeeded.
        if (status == RunStatus.Succeeded && upToDate == workflows.Count) status = RunStatus.UpToDate;
        if (status.IsSuccess()) failure = null;
        else failure ??= FailureKind.StepFailed;

        run = run with { Status = status, EndedAt = Clock.GetUtcNow(), Error = error };
        if (!await RecordEndAsync(run)) return await TakenOverAsync(run, observer, context);
        try
        {
            await context.LogAsync(status.IsSuccess() ? "info" : "error", null, null,
                $"run {run.Id} {(status == RunStatus.UpToDate ? "up to date: every workflow had the same inputs as its last successful run" : status.ToString().ToLowerInvariant())}{(error is null ? "" : ": " + error)}", CancellationToken.None);
        }
        catch (Exception e) when (StoreFailures.IsStoreFailure(e))
        {
            _logger.LogWarning("run {RunId}: its end is recorded, its last log line could not be ({Cause})", run.Id, StoreFailures.Describe(e));
        }
        observer.RunFinished(run);
        return new RunResult(run, failure);
    }

    /// <summary>
    /// The end of a run another node took over while it ran (this node's heartbeat lapsed): its record stands, and its
    /// resumption does the rest. Nothing this run committed after the takeover became visible (commits check).
    /// </summary>
    async Task<RunResult> TakenOverAsync(Run run, IRunObserver observer, RunContext? context)
    {
        var taken = await store.GetRunAsync(run.Id, CancellationToken.None) ?? run;
        var message = $"run {run.Id} ended here as {run.Status.ToString().ToLowerInvariant()}, but another node had taken it over: {taken.Error}";
        if (context is not null) await context.LogAsync("warn", null, null, message, CancellationToken.None);
        else await store.AppendLogAsync(run.Id, Clock.GetUtcNow(), "warn", null, null, message, CancellationToken.None);
        observer.RunFinished(taken);
        return new RunResult(taken, FailureKind.TakenOver);
    }

    IReadOnlyDictionary<string, ParameterValue> Bind(string target, IReadOnlyList<KeyValuePair<string, string>> variables, string runId, DateOnly runDate, DateTimeOffset startedAt)
    {
        try
        {
            return ParameterBinder.Bind(DeclaredParameters(target), variables, new RunIdentity(runId, runDate, startedAt, target, project.Id));
        }
        catch (ParameterException e)
        {
            throw new RunRequestException(e.Message);
        }
    }

    static string FormatDuration(TimeSpan span) =>
        span.TotalDays >= 1 && span.TotalDays == Math.Floor(span.TotalDays) ? $"{span.TotalDays:0}d"
        : span.TotalHours >= 1 && span.TotalHours == Math.Floor(span.TotalHours) ? $"{span.TotalHours:0}h"
        : span.TotalMinutes >= 1 && span.TotalMinutes == Math.Floor(span.TotalMinutes) ? $"{span.TotalMinutes:0}m"
        : $"{span.TotalSeconds:0.###}s";

    /// <summary>The request that reruns <paramref name="runId"/>: same target, parameters and run date.</summary>
    public async Task<RunRequest> RerunRequestAsync(string runId, CancellationToken ct)
    {
        var original = await store.GetRunAsync(runId, ct) ?? throw new RunRequestException($"no run '{runId}'");
        return new RunRequest(original.Target, OriginalVariables(original), TriggerKind.Rerun, ParentRunId: original.Id);
    }

    /// <summary>
    /// The request that resumes a failed, cancelled or interrupted run: a new run with the original parameters that
    /// skips the workflows the original committed and starts at the one that did not (a workflow is the unit of
    /// commit). A run is resumed once: the store answers a second retry of it with the first. Throws
    /// <see cref="RunRequestException"/> when the run does not exist or did not fail or get cancelled.
    /// </summary>
    public async Task<RunRequest> RetryRequestAsync(string runId, CancellationToken ct)
    {
        var original = await store.GetRunAsync(runId, ct) ?? throw new RunRequestException($"no run '{runId}'");
        if (original.Status is not (RunStatus.Failed or RunStatus.Cancelled))
            throw new RunRequestException($"run {runId} is {original.Status.ToString().ToLowerInvariant()}; only failed or cancelled runs can be retried (use rerun to run it again)");
        return ResumeRequest(original) with { CommittedWorkflows = await CommittedWorkflowsAsync(runId, ct) };
    }

    /// <summary>
    /// The request that resumes <paramref name="original"/> from its first uncommitted workflow (trigger Retry, the
    /// same variables and run.date), whatever its status: the server uses it for a run it takes over from a dead
    /// node, before the run is marked failed. <see cref="ExecuteAsync(Run, IRunObserver?, RunControl?, CancellationToken)"/> reads which
    /// workflows the original committed when the retry starts.
    /// </summary>
    public static RunRequest ResumeRequest(Run original) =>
        new(original.Target, OriginalVariables(original), TriggerKind.Retry, ParentRunId: original.Id);

    // Committed by the run, or skipped because an earlier attempt committed it (a retry of a retry), up the chain of
    // retries: a retry cancelled before it started has no workflow runs, and resuming it must still skip its parent's.
    async Task<IReadOnlySet<string>> CommittedWorkflowsAsync(string runId, CancellationToken ct)
    {
        var committed = new HashSet<string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (string? id = runId; id is not null && seen.Add(id);)
        {
            committed.UnionWith((await store.GetWorkflowRunsAsync(id, ct))
                .Where(w => w.CommittedAt is not null || w.Status == RunStatus.Skipped).Select(w => w.Workflow));
            id = await store.GetRunAsync(id, ct) is { Trigger: TriggerKind.Retry } run ? run.ParentRunId : null;
        }
        return committed;
    }

    static IReadOnlyList<KeyValuePair<string, string>> OriginalVariables(Run original) =>
        original.Parameters.Any(p => p.Key == BuiltInParameters.RunDate)
            ? original.Parameters
            : [.. original.Parameters, new(BuiltInParameters.RunDate, original.RunDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture))];

    (string Kind, IReadOnlyList<WorkflowDefinition> Workflows, PipelineDefinition? Pipeline) Resolve(string target)
    {
        if (project.Pipelines.TryGetValue(target, out var pipeline))
        {
            var workflows = new List<WorkflowDefinition>();
            foreach (var name in pipeline.Workflows)
                workflows.Add(project.Workflows.TryGetValue(name, out var w) ? w
                    : throw new RunRequestException($"pipeline '{target}' names workflow '{name}', which does not exist"));
            return ("pipeline", workflows, pipeline);
        }
        if (project.Workflows.TryGetValue(target, out var workflow)) return ("workflow", [workflow], null);
        throw new RunRequestException(
            $"no pipeline or workflow named '{target}' in project '{project.Id}' " +
            $"(pipelines: {List(project.Pipelines.Keys)}; workflows: {List(project.Workflows.Keys)})");
    }

    static string List(IEnumerable<string> names)
    {
        var list = names.Order(StringComparer.Ordinal).ToList();
        return list.Count == 0 ? "none" : string.Join(", ", list);
    }

    /// <summary>A run id that sorts by creation time: <c>yyyyMMdd-HHmmss-xxxxxx</c>.</summary>
    public static string NewRunId(DateTimeOffset now) =>
        $"{now.UtcDateTime:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
}
