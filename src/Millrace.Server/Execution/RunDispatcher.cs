using Microsoft.Extensions.Logging;
using Millrace.Engine;
using Millrace.Server.Hosting;
using Millrace.Storage;

namespace Millrace.Server.Execution;

/// <summary>
/// Starts this node's queued runs: in order, within the node's limit (<see cref="ServerOptions.MaxConcurrentRuns"/>)
/// and each pipeline's <c>concurrency.max_active</c> (claimed in the store, so runs of other nodes and CLI processes
/// count); executes each with the project's <see cref="Runner"/> and hands its end to the run-end chain once. With a
/// shared store it also picks up the runs other nodes queued and the cancel requests they took. On shutdown it lets
/// running runs finish within <see cref="ServerOptions.ShutdownTimeout"/> and then interrupts them.
/// </summary>
public sealed class RunDispatcher(ProjectRegistry projects, RunQueue queue, Func<ProjectHost, QueuedRunCoordinator> coordinatorOf, string nodeId,
    ServerOptions options, TimeProvider clock, ILogger logger)
{
    static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(5);
    readonly CancellationTokenSource _stopping = new();
    Task? _loop;

    /// <summary>True once the server stops: no new runs start (and no runs are taken over).</summary>
    public bool Stopping => _stopping.IsCancellationRequested;

    /// <summary>True when a hosted project's store is shared with other nodes (PostgreSQL).</summary>
    bool Clustered => projects.All.Any(h => h.Store.Shared);

    public void Start() => _loop = Task.Run(LoopAsync, CancellationToken.None);

    /// <summary>Stops starting runs (running ones go on; see <see cref="DrainAsync"/>).</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        if (_loop is not null) await _loop;
    }

    /// <summary>
    /// Lets running runs finish within the shutdown timeout, then interrupts them: each records itself failed
    /// ("interrupted") and can be resumed with retry. False if some never stopped.
    /// </summary>
    public async Task<bool> DrainAsync()
    {
        var running = queue.AllRunning().Select(a => a.Task).OfType<Task>().ToArray();
        if (running.Length == 0) return true;
        logger.LogInformation("waiting up to {Timeout} for {Count} running run(s) to finish", options.ShutdownTimeout, running.Length);
        var all = Task.WhenAll(running);
        if (await Task.WhenAny(all, Task.Delay(options.ShutdownTimeout, clock)) == all) return true;
        foreach (var active in queue.AllRunning())
            active.Control.Stop(RunStatus.Failed,
                $"interrupted: the server shut down before the run finished (it waited {options.ShutdownTimeout.TotalSeconds:0.#}s); " +
                $"nothing after its last committed workflow is visible. Resume it with 'millrace retry {active.Run.Id}' " +
                $"or POST /api/v1/projects/{active.Host.Id}/runs/{active.Run.Id}/retry", FailureKind.Interrupted);
        // The runs stop at their next cancellation point and record themselves; DuckDB queries are interrupted.
        if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(30), clock)) == all) return true;
        // The node's row stays, so that another node (or this one's next start) takes them over.
        logger.LogError("some runs did not stop within 30s of being interrupted; another node, or this node's next start, takes them over");
        return false;
    }

    async Task LoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var wait = LongestWait;
            try
            {
                if (Clustered) await PickUpQueuedAsync();
                wait = await DispatchAsync();
                if (Clustered && wait > options.QueuePollInterval) wait = options.QueuePollInterval;
            }
            catch (Exception e)
            {
                logger.LogError(e, "the run dispatcher could not start queued runs; trying again");
            }
            try
            {
                await queue.WaitAsync(wait, clock, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>
    /// With a shared store: adds the runs other nodes queued (API calls and schedule fires they took) to the queue, and
    /// stops the runs executing here that another node was asked to cancel.
    /// </summary>
    async Task PickUpQueuedAsync()
    {
        foreach (var host in projects.All.Where(h => h.Store.Shared))
        {
            foreach (var (runId, reason) in await host.Store.GetCancelRequestsAsync(nodeId, _stopping.Token))
                queue.Running(runId)?.Control.Stop(RunStatus.Cancelled, reason, FailureKind.Cancelled);
            // What this node had queued before the read: of those, the ones no longer queued in the store were
            // claimed by another node or cancelled, and leave the queue (runs queued after the read are kept).
            var known = queue.QueuedIds(host);
            var queued = await host.Store.GetQueuedRunsAsync(_stopping.Token);
            var stillQueued = queued.Select(q => q.Run.Id).ToHashSet(StringComparer.Ordinal);
            queue.Drop(host, known.Where(id => !stillQueued.Contains(id)).ToHashSet(StringComparer.Ordinal));
            queue.Add(queued.Where(q => q.Run.ProjectId == host.Id).Select(q => new RunQueue.Pending(host, q.Run, q.Request)));
        }
    }

    /// <summary>Starts what may start now; returns how long to wait before looking again (a retry's backoff, a busy pipeline).</summary>
    async Task<TimeSpan> DispatchAsync()
    {
        var (starting, wait) = queue.TakeStartable(options.MaxConcurrentRuns, clock.GetUtcNow(), LongestWait);
        foreach (var active in starting)
        {
            var startedAt = clock.GetUtcNow();
            ClaimResult claimed;
            try
            {
                // The pipeline's max_active counts every Running run in the store (other nodes, CLI processes), checked in the claim's transaction.
                var policy = RunPolicy.For(active.Host.Definition, active.Run.Target);
                claimed = await active.Host.Store.ClaimQueuedRunAsync(active.Run.Id, nodeId, startedAt, policy.Limited ? policy.MaxActive : null, CancellationToken.None);
            }
            catch (Exception e)
            {
                logger.LogError(e, "could not start run {RunId}; it stays queued", active.Run.Id);
                queue.PutBack(active);
                continue;
            }
            if (claimed == ClaimResult.Busy)
            {
                // Runs of other nodes or processes fill the pipeline's max_active now: it waits its turn, looking again soon.
                queue.PutBack(active);
                if (wait > options.QueuePollInterval) wait = options.QueuePollInterval;
                continue;
            }
            if (claimed == ClaimResult.NotQueued)
            {
                // Cancelled (or taken by another node) since it was queued.
                queue.Finished(active);
                continue;
            }
            logger.LogInformation("project {Project}: node {Node} executes run {RunId} of {Target}", active.Host.Id, nodeId, active.Run.Id, active.Run.Target);
            var run = active.Run with { Status = RunStatus.Running, StartedAt = startedAt };
            active.Task = Task.Run(() => ExecuteAsync(active, run), CancellationToken.None);
        }
        return wait;
    }

    async Task ExecuteAsync(RunQueue.Active active, Run run)
    {
        RunResult result;
        try
        {
            result = await active.Host.Runner.ExecuteAsync(run, null, active.Control);
        }
        catch (Exception e)
        {
            logger.LogError(e, "run {RunId} failed inside the dispatcher", run.Id);
            // A store that could not be written (locked, full disk) is a cause to record, not an internal error.
            var store = StoreFailures.IsStoreFailure(e);
            var failed = run with { Status = RunStatus.Failed, EndedAt = clock.GetUtcNow(), Error = store ? StoreFailures.Describe(e) : $"internal error: {e.Message}" };
            var kind = store ? FailureKind.StoreFailure : FailureKind.Internal;
            // The runner already tried to record an end it could not write; anything else is recorded here, fenced as every end is.
            if (e is not RunNotRecordedException)
            {
                try { if (!await active.Host.Runner.RecordEndAsync(failed)) kind = FailureKind.TakenOver; }
                catch (Exception inner) { logger.LogError(inner, "could not record run {RunId} as failed", run.Id); }
            }
            result = new RunResult(failed, kind);
        }
        finally
        {
            queue.Finished(active);
            active.Control.Dispose();
        }
        if (result.Failure == FailureKind.TakenOver)
            logger.LogWarning("run {RunId} was taken over by another node while it ran here; its resumption finishes it", run.Id);
        await coordinatorOf(active.Host).EndedAsync(
            new RunEnd(result, active.Request, RunPolicy.For(active.Host.Definition, run.Target), SubmitOptions.Default), CancellationToken.None);
    }
}
