using System.Text.Json;
using DuckDB.NET.Data;
using Millrace.Datasets;
using Millrace.Definitions;
using Millrace.Internal;
using Millrace.Lake;
using Millrace.Parameters;
using Millrace.Storage;
using Microsoft.Extensions.Logging;

namespace Millrace.Engine;

/// <summary>
/// Runs one workflow of a run: resolves dataset inputs to their committed versions, executes the steps in
/// dependency order (independent branches in parallel, up to the workflow's <c>max_parallel</c>), then commits every
/// effect in one store transaction and publishes staged files. A failure or cancellation commits nothing.
/// </summary>
public sealed class WorkflowExecutor(RunContext run)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Executes <paramref name="workflow"/> as position <paramref name="position"/> of the run.</summary>
    /// <returns>Succeeded, Failed or Cancelled, with the first error and the kind of failure (null when it succeeded).</returns>
    public async Task<(RunStatus Status, string? Error, FailureKind? Failure)> ExecuteAsync(WorkflowDefinition workflow, int position, CancellationToken ct)
    {
        var started = run.Clock.GetUtcNow();
        await run.Store.SaveWorkflowRunAsync(new WorkflowRun { RunId = run.RunId, Workflow = workflow.Name, Position = position, Status = RunStatus.Running, StartedAt = started }, CancellationToken.None);
        run.Observer.WorkflowStarted(run.RunId, workflow.Name);
        var memo = new WorkflowMemo(run);
        var decision = await memo.DecideAsync(workflow, ct);
        if (decision.UpToDate)
        {
            await memo.RecordUpToDateAsync(workflow, position, decision, started);
            run.Observer.WorkflowFinished(run.RunId, workflow.Name, RunStatus.UpToDate);
            return (RunStatus.UpToDate, null, null);
        }
        if (decision.Compared) await run.LogAsync("info", workflow.Name, null, $"workflow '{workflow.Name}' runs: {decision.Explanation}", CancellationToken.None);

        var commit = new CommitBuilder();
        var tempDirectory = Path.Combine(run.Project.StateDirectory, "tmp", run.RunId, workflow.Name);
        RunStatus status;
        string? error = null;
        FailureKind? failure = null;
        var committed = false;
        try
        {
            (status, error) = await RunStepsAsync(workflow, commit, tempDirectory, ct);
            if (status == RunStatus.Succeeded)
            {
                if (ct.IsCancellationRequested) status = RunStatus.Cancelled;
                else
                {
                    // An output that could never be published fails this run now, before anything is committed.
                    Publisher.CheckPlaceable(run.Lake, commit.StagedFiles);
                    // On an S3 lake the run's files go to the bucket first: dataset parts to their keys (no version lists
                    // them yet), staged outputs under _staging/<run>/, from where any node can publish them once committed.
                    await run.Lake.Storage.UploadAsync(FilesToUpload(commit), ct);
                    // Once the commit starts it completes: a half-made commit is what the store transaction prevents.
                    run.Faults.Hit($"{workflow.Name}.commit.before");
                    await run.Store.CommitAsync(commit.Build(run.RunId, workflow.Name), CancellationToken.None);
                    committed = true;
                    run.Faults.Hit($"{workflow.Name}.commit.after");
                    (status, error) = await PublishAsync(workflow.Name);
                    if (status == RunStatus.Succeeded && decision.Inputs is { } inputs) await memo.RecordCommittedAsync(workflow, inputs, commit.Build(run.RunId, workflow.Name), CancellationToken.None);
                }
            }
        }
        catch (Exception e) when (e is CommitConflictException or LakeStorageException or LakePathException)
        {
            (status, error, failure) = (RunStatus.Failed, run.Lake.Relativize(e.Message), e is CommitConflictException ? FailureKind.Conflict : FailureKind.StepFailed);
        }
        catch (Exception e) when (!committed && StoreFailures.IsStoreFailure(e))
        {
            // The store could not be written before the commit: nothing is visible, the files are discarded below.
            (status, error, failure) = (RunStatus.Failed, StoreFailures.Describe(e), FailureKind.StoreFailure);
        }
        catch (Exception e) when (committed && StoreFailures.IsStoreFailure(e))
        {
            // Committed is committed: the publish the store could not record is rolled forward by the next run or gc.
            status = RunStatus.Succeeded;
            run.Logger.LogWarning(e, "workflow {Workflow} committed, but recording its publish failed", workflow.Name);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            status = RunStatus.Cancelled; // cancelled while uploading, before the commit
        }
        finally
        {
            TryDeleteDirectory(tempDirectory);
            TryDeleteDirectoryIfEmpty(Path.GetDirectoryName(tempDirectory)!);
        }

        // A committed workflow keeps its files, even when its publish failed: they wait for 'millrace publish'.
        if (status != RunStatus.Succeeded && !committed) await DiscardAsync(commit);
        await run.Store.SaveWorkflowRunAsync(new WorkflowRun
        {
            RunId = run.RunId, Workflow = workflow.Name, Position = position, Status = status, StartedAt = started, EndedAt = run.Clock.GetUtcNow(),
        }, CancellationToken.None);
        run.Observer.WorkflowFinished(run.RunId, workflow.Name, status);
        return (status, error, status switch { RunStatus.Succeeded => null, RunStatus.Cancelled => FailureKind.Cancelled, _ => failure ?? FailureKind.StepFailed });
    }

    async Task<(RunStatus, string?)> RunStepsAsync(WorkflowDefinition workflow, CommitBuilder commit, string tempDirectory, CancellationToken ct)
    {
        var steps = new List<(StepDefinition Definition, IStep Step)>();
        var errors = new List<DefinitionError>();
        foreach (var definition in workflow.Steps)
        {
            if (!run.Catalog.TryGet(definition.Type, out var kind))
                return (RunStatus.Failed, $"step '{definition.Id}': unknown step kind '{definition.Type}'");
            var parsed = kind.Parse(definition, new YamlNodeReader(definition.Location.File, errors, definition.Id));
            if (parsed is null || errors.Count > 0) return (RunStatus.Failed, string.Join("; ", errors));
            steps.Add((definition, parsed));
        }
        var stepIds = steps.Select(s => s.Definition.Id).ToHashSet(StringComparer.Ordinal);

        using var database = DuckDb.OpenInMemory(tempDirectory, run.DuckDbThreads);
        try
        {
            await RegisterDatasetInputsAsync(database, steps.SelectMany(s => s.Definition.Inputs).Where(i => !stepIds.Contains(i)).Distinct(), commit, ct);
        }
        catch (StepFailedException e)
        {
            await run.LogAsync("error", workflow.Name, null, e.Message, CancellationToken.None);
            return (RunStatus.Failed, e.Message);
        }

        var done = new HashSet<string>(StringComparer.Ordinal);
        var started = new HashSet<string>(StringComparer.Ordinal);
        var running = new Dictionary<Task<StepRun>, string>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        string? firstError = null;
        var cancelled = false;

        while (true)
        {
            if (firstError is null && !stop.IsCancellationRequested)
            {
                foreach (var (definition, step) in steps)
                {
                    if (running.Count >= workflow.MaxParallel) break;
                    if (started.Contains(definition.Id) || !definition.Inputs.Where(stepIds.Contains).All(done.Contains)) continue;
                    started.Add(definition.Id);
                    running.Add(ExecuteStepAsync(database, workflow.Name, definition, step, commit, stop.Token), definition.Id);
                }
            }
            if (running.Count == 0) break;
            var finished = await Task.WhenAny(running.Keys);
            running.Remove(finished);
            StepRun stepRun;
            try
            {
                stepRun = await finished;
            }
            catch (Exception e) when (StoreFailures.IsStoreFailure(e))
            {
                // The step's record could not be written: the workflow cannot commit; let the other branches stop.
                firstError ??= StoreFailures.Describe(e);
                await stop.CancelAsync();
                continue;
            }
            switch (stepRun.Status)
            {
                case RunStatus.Succeeded:
                    done.Add(stepRun.StepId);
                    break;
                case RunStatus.Cancelled:
                    cancelled = true;
                    break;
                default:
                    firstError ??= $"step '{stepRun.StepId}': {stepRun.Error}";
                    await stop.CancelAsync(); // stop the other branches: the workflow cannot commit anyway
                    break;
            }
        }

        foreach (var (definition, _) in steps.Where(s => !started.Contains(s.Definition.Id)))
        {
            var skipped = new StepRun { RunId = run.RunId, Workflow = workflow.Name, StepId = definition.Id, Kind = definition.Type, Status = RunStatus.Skipped };
            await run.Store.SaveStepRunAsync(skipped, CancellationToken.None);
            run.Observer.StepFinished(skipped);
        }

        if (firstError is not null) return (RunStatus.Failed, firstError);
        if (cancelled || ct.IsCancellationRequested) return (RunStatus.Cancelled, "cancelled");
        return (RunStatus.Succeeded, null);
    }

    async Task<StepRun> ExecuteStepAsync(DuckDBConnection database, string workflow, StepDefinition definition, IStep step, CommitBuilder commit, CancellationToken ct)
    {
        await Task.Yield();
        var stepRun = new StepRun { RunId = run.RunId, Workflow = workflow, StepId = definition.Id, Kind = definition.Type, Status = RunStatus.Running, StartedAt = run.Clock.GetUtcNow() };
        await run.Store.SaveStepRunAsync(stepRun, CancellationToken.None);
        run.Observer.StepStarted(run.RunId, workflow, definition.Id);
        try
        {
            using var connection = database.Duplicate();
            connection.Open();
            var context = new StepContext(run, workflow, definition, connection, commit);
            run.Faults.Hit($"{workflow}.{definition.Id}.before");
            var result = await step.ExecuteAsync(context, ct);
            run.Faults.Hit($"{workflow}.{definition.Id}.after");
            stepRun = stepRun with
            {
                Status = RunStatus.Succeeded,
                EndedAt = run.Clock.GetUtcNow(),
                Rows = result.Rows,
                DetailsJson = result.Details is null ? null : JsonSerializer.Serialize(result.Details, Json),
            };
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            stepRun = stepRun with { Status = RunStatus.Cancelled, EndedAt = run.Clock.GetUtcNow(), Error = "cancelled" };
        }
        catch (Exception e) when (e is StepFailedException or LakePathException or ParameterException or DuckDBException or IOException or CommitConflictException or InvalidOperationException)
        {
            stepRun = stepRun with { Status = RunStatus.Failed, EndedAt = run.Clock.GetUtcNow(), Error = run.Lake.Relativize(e.Message.Trim()) };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A defect in a step (or a library it calls) fails that step, not the process; the trace goes to the log.
            stepRun = stepRun with { Status = RunStatus.Failed, EndedAt = run.Clock.GetUtcNow(), Error = run.Lake.Relativize($"internal error ({e.GetType().Name}): {e.Message.Trim()}") };
            await run.LogAsync("error", workflow, definition.Id, e.ToString(), CancellationToken.None);
        }
        if (stepRun.Error is { } message && stepRun.Status == RunStatus.Failed)
            await run.LogAsync("error", workflow, definition.Id, message, CancellationToken.None);
        await run.Store.SaveStepRunAsync(stepRun, CancellationToken.None);
        run.Observer.StepFinished(stepRun);
        return stepRun;
    }

    /// <summary>Makes each dataset input a view over the Parquet files of its committed version.</summary>
    async Task RegisterDatasetInputsAsync(DuckDBConnection database, IEnumerable<string> inputs, CommitBuilder commit, CancellationToken ct)
    {
        foreach (var input in inputs)
        {
            var (name, version) = DatasetReference.Parse(input);
            var committed = await run.Store.GetDatasetVersionAsync(name, version, ct)
                ?? throw new StepFailedException(version is null
                    ? $"dataset '{name}' has no committed version yet; run the workflow that writes it first"
                    : $"dataset '{name}' has no version v{version}");
            commit.RecordRead(name, committed.Version);
            var view = SqlText.Identifier(input);
            if (committed.Files.Count > 0) await FetchAsync(committed, ct); // on an S3 lake: into the cache DuckDB reads
            var sql = committed.Files.Count == 0
                ? $"CREATE TABLE {view} ({string.Join(", ", committed.Schema.Select(c => $"{SqlText.Identifier(c.Name)} {c.Type}"))})"
                : $"CREATE VIEW {view} AS {DatasetFiles.ReadSql(committed, run.Lake.Resolve)}";
            await DuckDb.ExecuteAsync(database, sql, ct);
        }
    }

    /// <summary>The version's files in the local lake folder, fetched into the cache first on an S3 lake.</summary>
    async Task<IReadOnlyList<string>> FetchAsync(DatasetVersion version, CancellationToken ct)
    {
        try
        {
            return await run.Lake.FetchAsync(version.Files, ct);
        }
        catch (LakeStorageException e)
        {
            throw new StepFailedException($"dataset '{version.Dataset}' v{version.Version}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Publishes this run's committed files. A storage error (the bucket unreachable) leaves the workflow succeeded,
    /// its files waiting in staging for the next run or gc; a file that cannot be placed fails this workflow (its
    /// commit stands) and waits for an operator: <c>millrace publish list</c> shows it, <c>discard</c> drops it.
    /// </summary>
    async Task<(RunStatus, string?)> PublishAsync(string workflow)
    {
        var failures = await Publisher.PublishAsync(run.Store, run.Lake, run.RunId, CancellationToken.None);
        foreach (var failure in failures)
            await run.LogAsync(failure.Transient ? "warn" : "error", workflow, null, failure.Transient
                ? $"committed, but publishing '{failure.File.FinalPath}' failed ({failure.Error}); the next run of the project or 'millrace gc' publishes it"
                : $"committed, but '{failure.File.FinalPath}' cannot be published: {failure.Error}", CancellationToken.None);
        if (failures.Count == 0)
        {
            TryDeleteDirectory(Path.Combine(run.Lake.StagingRoot, run.RunId, workflow));
            TryDeleteDirectoryIfEmpty(Path.Combine(run.Lake.StagingRoot, run.RunId));
        }
        if (failures.FirstOrDefault(f => !f.Transient) is not { } permanent) return (RunStatus.Succeeded, null);
        return (RunStatus.Failed, run.Lake.Relativize($"committed, but {failures.Count(f => !f.Transient)} output file(s) could not be published, first '{permanent.File.FinalPath}': {permanent.Error}; "
            + $"fix the cause and run 'millrace publish retry', or drop them with 'millrace publish discard {run.RunId}'"));
    }

    /// <summary>Lake-relative paths of every file the commit needs in the lake: written dataset parts and staged outputs.</summary>
    IReadOnlyList<string> FilesToUpload(CommitBuilder commit) =>
        [.. commit.WrittenFiles.Select(run.Lake.ToRelative), .. commit.StagedFiles.Select(f => f.StagingPath)];

    async Task DiscardAsync(CommitBuilder commit)
    {
        // Files of a run that did not commit are invisible (no version lists them); removing them now saves a gc.
        foreach (var file in commit.WrittenFiles)
        {
            try { File.Delete(file); } catch (IOException) { /* gc removes it later */ }
        }
        TryDeleteDirectory(Path.Combine(run.Lake.StagingRoot, run.RunId));
        if (!run.Lake.Storage.IsRemote) return;
        try { await run.Lake.Storage.DeleteAsync(FilesToUpload(commit), CancellationToken.None); }
        catch (LakeStorageException) { /* gc removes them later */ }
    }

    static void TryDeleteDirectoryIfEmpty(string path)
    {
        try { if (Directory.Exists(path) && !Directory.EnumerateFileSystemEntries(path).Any()) Directory.Delete(path); }
        catch (IOException) { /* another workflow of the run is still staging */ }
    }

    static void TryDeleteDirectory(string path)
    {
        try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }
        catch (IOException) { /* left for gc */ }
        catch (UnauthorizedAccessException) { /* left for gc */ }
    }
}
