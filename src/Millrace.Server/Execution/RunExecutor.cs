using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Millrace.Engine;
using Millrace.Server.Hosting;
using Millrace.Server.Notifications;
using Millrace.Storage;

namespace Millrace.Server.Execution;

/// <summary>The answer to a run request: the recorded run, and whether the run key named an earlier run.</summary>
public sealed record SubmitResult(Run Run, bool Duplicate);

/// <summary>
/// Owns the server's side of running: schedules, API calls and the UI submit run requests here, which each project's
/// <see cref="QueuedRunCoordinator"/> records in the store's queue under the target's policy; the
/// <see cref="RunQueue"/> and <see cref="RunDispatcher"/> start them and hand each end to the run-end chain (retry,
/// retrain, notify). Cluster membership is the <see cref="ClusterMembership"/> hosted service. Queued runs live in the
/// store, so a restart picks them up; on shutdown, running runs get <see cref="ServerOptions.ShutdownTimeout"/> to
/// finish and are then recorded as interrupted (failed, resumable with retry).
/// </summary>
public sealed class RunExecutor
{
    readonly ProjectRegistry _projects;
    readonly WebhookNotifier _notifier;
    readonly TimeProvider _clock;
    readonly ILogger<RunExecutor> _logger;
    readonly ConcurrentDictionary<ProjectHost, QueuedRunCoordinator> _coordinators = new();
    readonly RunDispatcher _dispatcher;

    public RunExecutor(ProjectRegistry projects, WebhookNotifier notifier, ServerOptions options, NodeIdentity self, TimeProvider clock, ILogger<RunExecutor> logger)
    {
        (_projects, _notifier, _logger, _clock, NodeId) = (projects, notifier, logger, clock, self.Owner);
        _dispatcher = new RunDispatcher(projects, Queue, For, NodeId, options, _clock, logger);
    }

    /// <summary>Runs a run taken over from a dead node may be resumed in a row before it is left failed (a run that kills its node).</summary>
    public const int MaxResumes = ClusterMembership.MaxResumes;

    /// <summary>This node's id in the store's cluster table and in the runs it owns.</summary>
    public string NodeId { get; }

    /// <summary>The requests waiting here and the runs executing here.</summary>
    public RunQueue Queue { get; } = new();

    /// <summary>Runs waiting to start, across projects.</summary>
    public int QueuedCount => Queue.QueuedCount;

    /// <summary>Runs executing now.</summary>
    public int RunningCount => Queue.RunningCount;

    /// <summary>True once the server stops: no new runs start and no runs are taken over.</summary>
    public bool Stopping => _dispatcher.Stopping;

    /// <summary>True when the shutdown drain stopped every running run (the node may leave the cluster's list).</summary>
    public bool Drained { get; private set; }

    /// <summary>The coordinator of one hosted project (retry, retrain and notify follow each of its runs' ends).</summary>
    public QueuedRunCoordinator For(ProjectHost host) => _coordinators.GetOrAdd(host, h =>
        new QueuedRunCoordinator(h, Queue, NodeId, RunEndChain.Default.Then(new NotifyHandler(_notifier, h)), _clock, _logger));

    /// <summary>
    /// Marks runs of dead processes on this host (CLI runs) as interrupted, loads the queued runs of every project and
    /// starts the dispatcher. Runs of dead server nodes were taken over by <see cref="ClusterMembership"/>, which starts first.
    /// </summary>
    public async Task StartAsync(CancellationToken ct)
    {
        foreach (var host in _projects.All)
        {
            var recovered = await host.Runner.RecoverInterruptedAsync(ct);
            if (recovered > 0) _logger.LogWarning("project {Project}: {Count} run(s) whose process died were recorded as interrupted", host.Id, recovered);
            var queued = await host.Store.GetQueuedRunsAsync(ct);
            Queue.Add(queued.Select(q => new RunQueue.Pending(host, q.Run, q.Request)));
            if (queued.Count > 0) _logger.LogInformation("project {Project}: {Count} queued run(s) picked up", host.Id, queued.Count);
        }
        _dispatcher.Start();
    }

    /// <summary>
    /// Records a run request and queues it. Throws <see cref="RunRequestException"/> for a bad target or parameters
    /// (nothing recorded). With <c>on_overlap: skip</c> and <paramref name="applyOverlapPolicy"/>, a request that
    /// arrives while the pipeline already has <c>max_active</c> runs queued or running is recorded as Skipped.
    /// </summary>
    public async Task<SubmitResult> SubmitAsync(ProjectHost host, RunRequest request, RunRequestInfo info, bool applyOverlapPolicy = true, CancellationToken ct = default)
    {
        var result = await For(host).SubmitAsync(request, info, new SubmitOptions(ApplyOverlapPolicy: applyOverlapPolicy), ct);
        return new SubmitResult(result.Run, result.Earlier);
    }

    /// <summary>Cancels a queued run (it never starts) or stops a running one (it records itself cancelled).</summary>
    public Task<CancelOutcome> CancelAsync(ProjectHost host, string runId, string by, CancellationToken ct) => For(host).CancelAsync(runId, by, ct);

    /// <summary>
    /// Stops starting runs, waits up to <see cref="ServerOptions.ShutdownTimeout"/> for running ones, then interrupts
    /// the rest: each records itself failed ("interrupted") and can be resumed with retry. Queued runs stay queued.
    /// </summary>
    public async Task StopAsync()
    {
        await _dispatcher.StopAsync();
        Drained = await _dispatcher.DrainAsync();
    }
}
