using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Millrace.Engine;
using Millrace.Server.Hosting;
using Millrace.Storage;

namespace Millrace.Server.Execution;

/// <summary>
/// This node's membership of the cluster, as a hosted service: records its heartbeat in every project's store and
/// takes over the running runs of nodes whose heartbeat lapsed (a retry that resumes each is queued here). It starts
/// before the executor (a dead node's runs are taken over before the queue is loaded) and stops after it: the
/// heartbeat goes on while running runs drain, so that peers do not take them over, and the node leaves the list
/// only when every run stopped.
/// </summary>
public sealed class ClusterMembership(ProjectRegistry projects, RunExecutor executor, ServerOptions options, NodeIdentity self, TimeProvider clock, ILogger<ClusterMembership> logger)
    : IHostedService
{
    /// <summary>Runs a run taken over from a dead node may be resumed in a row before it is left failed (a run that kills its node).</summary>
    public const int MaxResumes = 3;

    readonly CancellationTokenSource _leaving = new();
    readonly DateTimeOffset _startedAt = clock.GetUtcNow();
    // Each peer's last heartbeat value and when this node first saw it, by this node's clock: a node is dead when its
    // value has not changed for NodeTimeout here, so the nodes' clocks need not agree.
    readonly Dictionary<(string Project, string Node), (DateTimeOffset Value, DateTimeOffset SeenAt)> _heartbeats = [];
    Task? _loop;

    string NodeId => self.Owner;

    /// <summary>Beats and takes over once (before the executor loads its queue), then keeps doing so every heartbeat interval.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        await PassAsync(ct);
        _loop = Task.Run(LoopAsync, CancellationToken.None);
    }

    /// <summary>Leaves the node list when the executor's drain stopped every run, then stops beating.</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        try
        {
            if (executor.Drained) await LeaveAsync();
        }
        finally
        {
            await _leaving.CancelAsync();
            if (_loop is not null) await _loop;
        }
    }

    async Task LeaveAsync()
    {
        foreach (var host in projects.All)
        {
            try { await host.Store.RemoveClusterNodeAsync(NodeId, CancellationToken.None); }
            catch (Exception e) { logger.LogWarning(e, "project {Project}: could not remove this node from the store's node list", host.Id); }
        }
    }

    async Task LoopAsync()
    {
        while (!_leaving.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.HeartbeatInterval, clock, _leaving.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            try
            {
                await PassAsync(_leaving.Token);
            }
            catch (OperationCanceledException) when (_leaving.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogError(e, "could not record this node's heartbeat or look for dead nodes; trying again");
            }
        }
    }

    /// <summary>
    /// Records this node's heartbeat in every project's store, then takes over the running runs of nodes whose
    /// heartbeat lapsed (or whose process is gone from this host): each is marked interrupted and a retry that
    /// resumes it from its first uncommitted workflow is queued, in one store transaction, so exactly one node takes
    /// each run over. A dead node without running runs is removed from the list.
    /// </summary>
    async Task PassAsync(CancellationToken ct)
    {
        // Heartbeats first, each project on its own: one store that is down must not silence the others.
        foreach (var host in projects.All)
        {
            try { await host.Store.HeartbeatAsync(NodeId, _startedAt, clock.GetUtcNow(), ct); }
            catch (Exception e) when (e is not OperationCanceledException) { logger.LogError(e, "project {Project}: could not record this node's heartbeat", host.Id); }
        }
        if (executor.Stopping) return; // draining: no new work, takeovers included
        foreach (var host in projects.All)
        {
            try { await TakeOverDeadNodesAsync(host, ct); }
            catch (Exception e) when (e is not OperationCanceledException) { logger.LogError(e, "project {Project}: could not look for dead nodes' runs", host.Id); }
        }
    }

    async Task TakeOverDeadNodesAsync(ProjectHost host, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var dead = new Dictionary<string, ClusterNode>(StringComparer.Ordinal);
        foreach (var node in (await host.Store.GetClusterNodesAsync(ct)).Where(n => n.Node != NodeId))
        {
            var key = (host.Id, node.Node);
            lock (_heartbeats)
                if (!_heartbeats.TryGetValue(key, out var seen) || seen.Value != node.HeartbeatAt) _heartbeats[key] = (node.HeartbeatAt, now);
            var silentFor = now - _heartbeats[key].SeenAt;
            if (silentFor > options.NodeTimeout || self.IsDeadOnThisHost(node.Node)) dead[node.Node] = node;
        }
        if (dead.Count == 0) return;
        var orphans = (await host.Store.GetRunningRunsAsync(ct)).Where(r => r.Owner is not null && dead.ContainsKey(r.Owner)).ToList();
        // Runs of other projects sharing the database are taken over by the nodes that host them.
        foreach (var (run, owner) in orphans.Where(o => o.Run.ProjectId == host.Id))
        {
            try { await TakeOverAsync(host, run, dead[owner!], ct); }
            catch (Exception e) when (e is not OperationCanceledException) { logger.LogError(e, "project {Project}: could not take over run {RunId}", host.Id, run.Id); }
        }
        // A dead node's row goes once it owns no running run, and only if it did not beat again meanwhile.
        foreach (var node in dead.Values)
            if (await host.Store.RemoveDeadNodeAsync(node.Node, node.HeartbeatAt, ct))
                lock (_heartbeats) _heartbeats.Remove((host.Id, node.Node));
    }

    async Task TakeOverAsync(ProjectHost host, Run run, ClusterNode node, CancellationToken ct)
    {
        var attempt = (await host.Store.GetRunRequestAsync(run.Id, ct))?.Attempt ?? 1;
        var lapse = $"node {node.Node} stopped sending heartbeats (last at {node.HeartbeatAt:u} by its clock) while running it";
        QueuedRun? resume = null;
        string reason;
        if (attempt > MaxResumes)
            reason = $"interrupted: {lapse}; it was already resumed {attempt - 1} times, so it is not resumed again. Retry it by hand with 'millrace retry {run.Id}'";
        else
        {
            try
            {
                var retry = host.Runner.Prepare(Runner.ResumeRequest(run), RunStatus.Queued);
                resume = new QueuedRun(retry, new RunRequestInfo(attempt + 1, null, $"node {NodeId} (run {run.Id} lost its node)"));
                reason = $"interrupted: {lapse}; node {NodeId} resumes it as run {retry.Id} from its first uncommitted workflow";
            }
            catch (RunRequestException e)
            {
                reason = $"interrupted: {lapse}; it cannot be resumed with the current definitions ({e.Message})";
            }
        }
        if (!await host.Store.TakeOverRunAsync(run.Id, node.Node, reason, clock.GetUtcNow(), resume, ct)) return;
        logger.LogWarning("project {Project}: took over run {RunId} of {Target}: {Reason}", host.Id, run.Id, run.Target, reason);
        if (resume is not null) executor.Queue.Add(new RunQueue.Pending(host, resume.Run, resume.Request));
    }
}
