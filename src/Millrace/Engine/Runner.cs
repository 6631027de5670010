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
/// The one executor of runs: resolves the target, binds parameters, records the run and executes its workflows in
/// order, stopping at the first that does not succeed. Schedules, the API and the CLI all come through here.
/// </summary>
public sealed class Runner(ProjectDefinition project, IMetadataStore store, StepCatalog? catalog = null, ILogger? logger = null)
{
    readonly StepCatalog _catalog = catalog ?? StepCatalog.Default;
    readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>DuckDB threads per run (null = all cores).</summary>
    public int? DuckDbThreads { get; init; }

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
    /// Runs <paramref name="request"/> to its end and returns the recorded run. When the request carries a run key
    /// already used, the existing run is returned and nothing runs. Bad targets and parameters throw
    /// <see cref="RunRequestException"/> before anything is recorded.
    /// </summary>
    public async Task<Run> RunAsync(RunRequest request, IRunObserver? observer = null, CancellationToken ct = default)
    {
        observer ??= NullRunObserver.Instance;
        var (kind, workflows, _) = Resolve(request.Target);
        var now = DateTimeOffset.UtcNow;
        var runId = NewRunId(now);
        IReadOnlyDictionary<string, ParameterValue> parameters;
        try
        {
            parameters = ParameterBinder.Bind(DeclaredParameters(request.Target), request.Variables,
                new RunIdentity(runId, DateOnly.FromDateTime(now.UtcDateTime), now, request.Target, project.Id));
        }
        catch (ParameterException e)
        {
            throw new RunRequestException(e.Message);
        }

        var run = new Run
        {
            Id = runId,
            ProjectId = project.Id,
            Target = request.Target,
            TargetKind = kind,
            Trigger = request.Trigger,
            Status = RunStatus.Running,
            Parameters = request.Variables,
            RunDate = (DateOnly)parameters[BuiltInParameters.RunDate].Value,
            DefinitionsHash = project.DefinitionsHash,
            RunKey = request.RunKey,
            ParentRunId = request.ParentRunId,
            CreatedAt = now,
            StartedAt = now,
        };
        await RecoverInterruptedAsync(ct);
        var recorded = await store.CreateRunAsync(run, ct);
        if (recorded.Id != run.Id) return recorded;
        await store.SetRunOwnerAsync(run.Id, RunOwner.Self, ct);

        var lake = new LakeRoot(project.LakeRoot);
        var context = new RunContext
        {
            RunId = runId, Project = project, Store = store, Lake = lake, Catalog = _catalog, Parameters = parameters,
            Observer = observer, Logger = _logger, DuckDbThreads = DuckDbThreads,
        };
        observer.RunStarted(run, workflows.Select(w => (w.Name, w.Steps.Count)).ToList());
        await context.LogAsync("info", null, null, $"run {runId} of {kind} '{request.Target}' started ({request.Trigger}); run.date={run.RunDate:yyyy-MM-dd}", CancellationToken.None);

        var status = RunStatus.Succeeded;
        string? error = null;
        try
        {
            // Roll forward any commit whose files a crash left in staging before this run reads the lake.
            await Publisher.PublishAsync(store, lake, null, ct);
            var executor = new WorkflowExecutor(context);
            for (var i = 0; i < workflows.Count && status == RunStatus.Succeeded; i++)
            {
                if (request.CommittedWorkflows.Contains(workflows[i].Name))
                {
                    await store.SaveWorkflowRunAsync(new WorkflowRun { RunId = runId, Workflow = workflows[i].Name, Position = i, Status = RunStatus.Skipped, StartedAt = DateTimeOffset.UtcNow, EndedAt = DateTimeOffset.UtcNow }, CancellationToken.None);
                    await context.LogAsync("info", workflows[i].Name, null, $"workflow '{workflows[i].Name}' was committed by run {request.ParentRunId}; reusing its commit", CancellationToken.None);
                    continue;
                }
                var (workflowStatus, workflowError) = await executor.ExecuteAsync(workflows[i], i, ct);
                status = workflowStatus;
                if (workflowError is not null) error = workflows.Count > 1 ? $"workflow '{workflows[i].Name}': {workflowError}" : workflowError;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            status = RunStatus.Cancelled;
        }
        if (status == RunStatus.Cancelled) error = "cancelled";

        run = run with { Status = status, EndedAt = DateTimeOffset.UtcNow, Error = error };
        await store.UpdateRunAsync(run, CancellationToken.None);
        await context.LogAsync(status == RunStatus.Succeeded ? "info" : "error", null, null,
            $"run {runId} {status.ToString().ToLowerInvariant()}{(error is null ? "" : ": " + error)}", CancellationToken.None);
        observer.RunFinished(run);
        return run;
    }

    /// <summary>
    /// Runs <paramref name="runId"/>'s target again with its original parameters and run date (a new run).
    /// </summary>
    public async Task<Run> RerunAsync(string runId, IRunObserver? observer = null, CancellationToken ct = default)
    {
        var original = await store.GetRunAsync(runId, ct) ?? throw new RunRequestException($"no run '{runId}'");
        return await RunAsync(new RunRequest(original.Target, OriginalVariables(original), TriggerKind.Rerun, ParentRunId: original.Id), observer, ct);
    }

    /// <summary>
    /// Resumes a failed, cancelled or interrupted run: a new run with the original parameters that skips the
    /// workflows the original committed and starts at the one that did not (a workflow is the unit of commit).
    /// </summary>
    public async Task<Run> RetryAsync(string runId, IRunObserver? observer = null, CancellationToken ct = default)
    {
        await RecoverInterruptedAsync(ct);
        var original = await store.GetRunAsync(runId, ct) ?? throw new RunRequestException($"no run '{runId}'");
        if (original.Status is RunStatus.Succeeded or RunStatus.Running or RunStatus.Queued)
            throw new RunRequestException($"run {runId} is {original.Status.ToString().ToLowerInvariant()}; only failed or cancelled runs can be retried (use rerun to run it again)");
        // Committed here, or skipped because an earlier attempt committed it (a retry of a retry).
        var committed = (await store.GetWorkflowRunsAsync(runId, ct))
            .Where(w => w.CommittedAt is not null || w.Status == RunStatus.Skipped).Select(w => w.Workflow).ToHashSet(StringComparer.Ordinal);
        return await RunAsync(new RunRequest(original.Target, OriginalVariables(original), TriggerKind.Retry, ParentRunId: original.Id) { CommittedWorkflows = committed }, observer, ct);
    }

    static IReadOnlyList<KeyValuePair<string, string>> OriginalVariables(Run original) =>
        original.Parameters.Any(p => p.Key == BuiltInParameters.RunDate)
            ? original.Parameters
            : [.. original.Parameters, new(BuiltInParameters.RunDate, original.RunDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>
    /// Marks runs still recorded as running whose process on this host has died as failed ("interrupted"), with
    /// their running steps. Nothing they did after their last workflow commit is visible; <see cref="RetryAsync"/>
    /// resumes them. Returns how many were marked.
    /// </summary>
    public async Task<int> RecoverInterruptedAsync(CancellationToken ct)
    {
        var marked = 0;
        foreach (var (stale, owner) in await store.GetRunningRunsAsync(ct))
        {
            if (!RunOwner.IsDeadOnThisHost(owner)) continue;
            var pid = owner!.Split('|')[1];
            var message = $"interrupted: the process that ran it (pid {pid}) exited before the run finished; its uncommitted work is not visible. Resume with 'millrace retry {stale.Id}'";
            foreach (var step in (await store.GetStepRunsAsync(stale.Id, ct)).Where(s => s.Status == RunStatus.Running))
                await store.SaveStepRunAsync(step with { Status = RunStatus.Failed, Error = "interrupted", EndedAt = DateTimeOffset.UtcNow }, ct);
            foreach (var workflowRun in (await store.GetWorkflowRunsAsync(stale.Id, ct)).Where(w => w.Status == RunStatus.Running))
                await store.SaveWorkflowRunAsync(workflowRun with { Status = RunStatus.Failed, EndedAt = DateTimeOffset.UtcNow }, ct);
            await store.UpdateRunAsync(stale with { Status = RunStatus.Failed, EndedAt = DateTimeOffset.UtcNow, Error = message }, ct);
            await store.AppendLogAsync(stale.Id, DateTimeOffset.UtcNow, "error", null, null, message, ct);
            marked++;
        }
        return marked;
    }

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
