using Microsoft.Extensions.Logging;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Server.Hosting;
using Millrace.Server.Notifications;
using Millrace.Storage;

namespace Millrace.Server.Execution;

/// <summary>
/// The server's coordinator of one hosted project: a request is checked, has its target's <see cref="RunPolicy"/>
/// applied (<c>on_overlap: skip</c> counts the queued and running runs of every node and process in the store) and is
/// recorded Queued in the store, from where this node's <see cref="RunDispatcher"/> (or another node's) starts it.
/// </summary>
public sealed class QueuedRunCoordinator(ProjectHost host, RunQueue queue, string nodeId, RunEndChain chain, TimeProvider clock, ILogger logger)
    : RunCoordinator(chain, clock, logger), IDisposable
{
    // One submit at a time per project: the overlap count and the enqueue must not interleave on this node.
    readonly SemaphoreSlim _submitGate = new(1, 1);

    /// <summary>Releases the submit gate (the executor disposes its coordinators when the server is disposed).</summary>
    public void Dispose() => _submitGate.Dispose();

    public ProjectHost Host => host;
    public override ProjectDefinition Project => host.Definition;
    public override Runner Runner => host.Runner;
    public override IMetadataStore Store => host.Store;

    public override async Task<RunResult> SubmitAsync(RunRequest request, RunRequestInfo info, SubmitOptions? options, CancellationToken ct)
    {
        options ??= SubmitOptions.Default;
        var run = Runner.Prepare(request, RunStatus.Queued);
        var policy = PolicyFor(run.Target);
        await _submitGate.WaitAsync(ct);
        try
        {
            if (options.ApplyOverlapPolicy && policy.OnOverlap == OverlapPolicy.Skip && await SkippedWhenBusyAsync(run, policy, "on_overlap: skip", ct) is { } skipped)
                return await RecordSkippedAsync(skipped, info, ct);
            var recorded = await Store.EnqueueRunAsync(run, info, ct);
            if (recorded.Id != run.Id) return new RunResult(recorded, null, Earlier: true);
            if (options.Recorded is not null) await options.Recorded(recorded);
            queue.Add(new RunQueue.Pending(host, recorded, info));
            return new RunResult(recorded, null);
        }
        finally
        {
            _submitGate.Release();
        }
    }

    public override async Task<CancelOutcome> CancelAsync(string runId, string by, CancellationToken ct)
    {
        var running = queue.RemoveQueued(host, runId);
        // Stopped outside the queue's lock: cancellation callbacks run inline.
        if (running is not null && (running.Control.Stop(RunStatus.Cancelled, $"cancelled by {by}", FailureKind.Cancelled) || running.Control.StopStatus is not null))
            return CancelOutcome.Stopping;
        // Running on another node sharing the store: it picks the request up within a second and stops the run.
        return await CancelElsewhereAsync(runId, by, $" (through node {nodeId})", ct);
    }
}

/// <summary>Sends a run's webhook notifications once its end is final (not when it is retried).</summary>
public sealed class NotifyHandler(WebhookNotifier notifier, ProjectHost host) : IRunEndHandler
{
    public async Task HandleAsync(RunCoordinator coordinator, RunEnd end, CancellationToken ct)
    {
        if (!end.Retrying) await notifier.RunFinishedAsync(host, end.Result.Run, end.Request.Attempt, ct);
    }
}
