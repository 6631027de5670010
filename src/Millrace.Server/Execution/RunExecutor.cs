using Microsoft.Extensions.Logging;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Server.Hosting;
using Millrace.Server.Notifications;
using Millrace.Storage;

namespace Millrace.Server.Execution;

/// <summary>The answer to a run request: the recorded run, and whether the run key named an earlier run.</summary>
public sealed record SubmitResult(Run Run, bool Duplicate);

/// <summary>What cancelling a run did.</summary>
public enum CancelOutcome { CancelledQueued, Stopping, NotActive }

/// <summary>
/// The one executor of the server. Schedules and API calls only record run requests (runs in the Queued state) and
/// hand them here; this loop starts them in order within the global limit (<see cref="ServerOptions.MaxConcurrentRuns"/>)
/// and each pipeline's <c>concurrency.max_active</c>, applies <c>on_overlap: skip</c> when a request arrives, retries
/// failed runs per <c>retries:</c>, and sends notifications when runs end. Queued runs live in the store, so a restart
/// picks them up; on shutdown, running runs get <see cref="ServerOptions.ShutdownTimeout"/> to finish and are then
/// recorded as interrupted (failed, resumable with retry).
/// </summary>
public sealed class RunExecutor(ProjectRegistry projects, WebhookNotifier notifier, ServerOptions options, NodeIdentity self, ILogger<RunExecutor> logger)
{
    sealed record Pending(ProjectHost Host, Run Run, RunRequestInfo Request);

    sealed class Active(ProjectHost host, Run run, RunRequestInfo request)
    {
        public ProjectHost Host { get; } = host;
        public Run Run { get; } = run;
        public RunRequestInfo Request { get; } = request;
        public RunControl Control { get; } = new();
        public Task? Task { get; set; }
        public bool Interrupted { get; set; }
    }

    readonly Lock _lock = new();
    readonly List<Pending> _pending = [];
    readonly Dictionary<string, Active> _active = new(StringComparer.Ordinal);
    readonly SemaphoreSlim _wake = new(0);
    readonly SemaphoreSlim _submitGate = new(1, 1);
    readonly CancellationTokenSource _stopping = new();
    // The heartbeat goes on while running runs drain at shutdown, so that peers do not take them over.
    readonly CancellationTokenSource _leaving = new();
    readonly DateTimeOffset _nodeStartedAt = DateTimeOffset.UtcNow;
    // Each peer's last heartbeat value and when this node first saw it, by this node's clock: a node is dead when its
    // value has not changed for NodeTimeout here, so the nodes' clocks need not agree.
    readonly Dictionary<(string Project, string Node), (DateTimeOffset Value, DateTimeOffset SeenAt)> _heartbeats = [];

    Task? _loop;
    Task? _membership;

    /// <summary>Runs a run taken over from a dead node may be resumed in a row before it is left failed (a run that kills its node).</summary>
    public const int MaxResumes = 3;

    /// <summary>This node's id in the store's cluster table and in the runs it owns.</summary>
    public string NodeId => self.Owner;

    /// <summary>True when a hosted project's store is shared with other nodes (PostgreSQL).</summary>
    bool Clustered => projects.All.Any(h => h.Store.Shared);

    /// <summary>Runs waiting to start, across projects.</summary>
    public int QueuedCount { get { lock (_lock) return _pending.Count; } }

    /// <summary>Runs executing now.</summary>
    public int RunningCount { get { lock (_lock) return _active.Count; } }

    /// <summary>Marks runs whose process died as interrupted, loads the queued runs of every project and starts the loop.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        // First the runs of server nodes that died (this node's earlier process after a crash, or a peer): taken over
        // and resumed. Then runs of other processes that died on this host (CLI runs): recorded interrupted.
        await MembershipPassAsync(ct);
        foreach (var host in projects.All)
        {
            var recovered = await host.Runner.RecoverInterruptedAsync(ct);
            if (recovered > 0) logger.LogWarning("project {Project}: {Count} run(s) whose process died were recorded as interrupted", host.Id, recovered);
            var queued = await host.Store.GetQueuedRunsAsync(ct);
            lock (_lock) foreach (var q in queued) AddPending(new Pending(host, q.Run, q.Request));
            if (queued.Count > 0) logger.LogInformation("project {Project}: {Count} queued run(s) picked up", host.Id, queued.Count);
        }
        lock (_lock) _pending.Sort((a, b) => a.Run.CreatedAt.CompareTo(b.Run.CreatedAt));
        _loop = Task.Run(LoopAsync, CancellationToken.None);
        _membership = Task.Run(MembershipLoopAsync, CancellationToken.None);
    }

    /// <summary>
    /// Records a run request and queues it. Throws <see cref="RunRequestException"/> for a bad target or parameters
    /// (nothing recorded). With <c>on_overlap: skip</c> and <paramref name="applyOverlapPolicy"/>, a request that
    /// arrives while the pipeline already has <c>max_active</c> runs queued or running is recorded as Skipped.
    /// </summary>
    public async Task<SubmitResult> SubmitAsync(ProjectHost host, RunRequest request, RunRequestInfo info, bool applyOverlapPolicy = true, CancellationToken ct = default)
    {
        var run = host.Runner.Prepare(request, RunStatus.Queued);
        await _submitGate.WaitAsync(ct);
        try
        {
            if (applyOverlapPolicy && host.Definition.Pipelines.TryGetValue(run.Target, out var pipeline) && pipeline.Concurrency.OnOverlap == OverlapPolicy.Skip)
            {
                // On a shared store every node's queued and running runs count (they are all in the store).
                var busy = host.Store.Shared ? await host.Store.CountActiveRunsAsync(host.Id, run.Target, ct) : CountActiveOrQueued(host.Id, run.Target);
                if (busy >= pipeline.Concurrency.MaxActive)
                    run = run with
                    {
                        Status = RunStatus.Skipped,
                        EndedAt = DateTimeOffset.UtcNow,
                        Error = $"skipped: pipeline '{run.Target}' already has {busy} run(s) queued or running (concurrency: max_active {pipeline.Concurrency.MaxActive}, on_overlap: skip)",
                    };
            }
            var recorded = await host.Store.EnqueueRunAsync(run, info, ct);
            if (recorded.Id != run.Id) return new SubmitResult(recorded, Duplicate: true);
            if (recorded.Status == RunStatus.Skipped)
            {
                await host.Store.AppendLogAsync(recorded.Id, DateTimeOffset.UtcNow, "warn", null, null, recorded.Error!, CancellationToken.None);
                return new SubmitResult(recorded, Duplicate: false);
            }
            lock (_lock) AddPending(new Pending(host, recorded, info));
        }
        finally
        {
            _submitGate.Release();
        }
        Wake();
        return new SubmitResult(run, Duplicate: false);
    }

    /// <summary>Cancels a queued run (it never starts) or stops a running one (it records itself cancelled).</summary>
    public async Task<CancelOutcome> CancelAsync(ProjectHost host, string runId, string by, CancellationToken ct)
    {
        Active? running;
        lock (_lock)
        {
            running = _active.TryGetValue(runId, out var active) && active.Host == host ? active : null;
            if (running is null) _pending.RemoveAll(p => p.Run.Id == runId && p.Host == host);
        }
        // Stopped outside the lock: cancellation callbacks run inline and must not meet the executor's own lock.
        if (running is not null && (running.Control.Stop(RunStatus.Cancelled, $"cancelled by {by}") || running.Control.StopStatus is not null))
            return CancelOutcome.Stopping;
        if (await host.Store.CancelQueuedRunAsync(runId, $"cancelled by {by} before it started", ct)) return CancelOutcome.CancelledQueued;
        // Running on another node sharing the store: it picks the request up within a second and stops the run.
        return host.Store.Shared && await host.Store.RequestCancelAsync(runId, $"cancelled by {by} (through node {NodeId})", ct)
            ? CancelOutcome.Stopping : CancelOutcome.NotActive;
    }

    /// <summary>
    /// Stops starting runs, waits up to <see cref="ServerOptions.ShutdownTimeout"/> for running ones, then interrupts
    /// the rest: each records itself failed ("interrupted") and can be resumed with retry. Queued runs stay queued.
    /// </summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        if (_loop is not null) await _loop;
        try
        {
            if (await DrainAsync()) await LeaveClusterAsync();
        }
        finally
        {
            await _leaving.CancelAsync();
            if (_membership is not null) await _membership;
        }
    }

    /// <summary>Lets running runs finish within the shutdown timeout, then interrupts them; false if some never stopped.</summary>
    async Task<bool> DrainAsync()
    {
        Task[] running;
        lock (_lock) running = _active.Values.Select(a => a.Task).OfType<Task>().ToArray();
        if (running.Length == 0) return true;
        logger.LogInformation("waiting up to {Timeout} for {Count} running run(s) to finish", options.ShutdownTimeout, running.Length);
        var all = Task.WhenAll(running);
        if (await Task.WhenAny(all, Task.Delay(options.ShutdownTimeout)) == all) return true;
        List<Active> interrupted;
        lock (_lock) interrupted = [.. _active.Values];
        foreach (var active in interrupted)
        {
            active.Interrupted = true;
            active.Control.Stop(RunStatus.Failed,
                $"interrupted: the server shut down before the run finished (it waited {options.ShutdownTimeout.TotalSeconds:0.#}s); " +
                $"nothing after its last committed workflow is visible. Resume it with 'millrace retry {active.Run.Id}' " +
                $"or POST /api/v1/projects/{active.Host.Id}/runs/{active.Run.Id}/retry");
        }
        // The runs stop at their next cancellation point and record themselves; DuckDB queries are interrupted.
        if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(30))) == all) return true;
        // The node's row stays, so that another node (or this one's next start) takes them over.
        logger.LogError("some runs did not stop within 30s of being interrupted; another node, or this node's next start, takes them over");
        return false;
    }

    async Task LeaveClusterAsync()
    {
        foreach (var host in projects.All)
        {
            try { await host.Store.RemoveClusterNodeAsync(NodeId, CancellationToken.None); }
            catch (Exception e) { logger.LogWarning(e, "project {Project}: could not remove this node from the store's node list", host.Id); }
        }
    }

    async Task MembershipLoopAsync()
    {
        while (!_leaving.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.HeartbeatInterval, _leaving.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            try
            {
                await MembershipPassAsync(_leaving.Token);
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
    async Task MembershipPassAsync(CancellationToken ct)
    {
        // Heartbeats first, each project on its own: one store that is down must not silence the others.
        foreach (var host in projects.All)
        {
            try { await host.Store.HeartbeatAsync(NodeId, _nodeStartedAt, DateTimeOffset.UtcNow, ct); }
            catch (Exception e) when (e is not OperationCanceledException) { logger.LogError(e, "project {Project}: could not record this node's heartbeat", host.Id); }
        }
        if (_stopping.IsCancellationRequested) return; // draining: no new work, takeovers included
        foreach (var host in projects.All)
        {
            try { await TakeOverDeadNodesAsync(host, ct); }
            catch (Exception e) when (e is not OperationCanceledException) { logger.LogError(e, "project {Project}: could not look for dead nodes' runs", host.Id); }
        }
    }

    async Task TakeOverDeadNodesAsync(ProjectHost host, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
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
        if (!await host.Store.TakeOverRunAsync(run.Id, node.Node, reason, DateTimeOffset.UtcNow, resume, ct)) return;
        logger.LogWarning("project {Project}: took over run {RunId} of {Target}: {Reason}", host.Id, run.Id, run.Target, reason);
        if (resume is null) return;
        lock (_lock) AddPending(new Pending(host, resume.Run, resume.Request));
        Wake();
    }

    /// <summary>Queues a run unless this node already has it queued or running (call under the lock).</summary>
    void AddPending(Pending pending)
    {
        if (_active.ContainsKey(pending.Run.Id) || _pending.Any(p => p.Run.Id == pending.Run.Id)) return;
        _pending.Add(pending);
    }

    int CountActiveOrQueued(string projectId, string target)
    {
        lock (_lock)
            return _active.Values.Count(a => a.Host.Id == projectId && a.Run.Target == target)
                + _pending.Count(p => p.Host.Id == projectId && p.Run.Target == target);
    }

    void Wake()
    {
        if (_wake.CurrentCount == 0) _wake.Release();
    }

    async Task LoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var wait = TimeSpan.FromSeconds(5);
            try
            {
                if (Clustered) await PickUpQueuedAsync();
                wait = await DispatchAsync();
                if (Clustered && wait > options.QueuePollInterval) wait = options.QueuePollInterval;
            }
            catch (Exception e)
            {
                logger.LogError(e, "the run executor could not start queued runs; trying again");
            }
            try
            {
                await _wake.WaitAsync(wait, _stopping.Token);
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
            foreach (var (runId, reason) in await host.Store.GetCancelRequestsAsync(NodeId, _stopping.Token))
            {
                Active? active;
                lock (_lock) active = _active.GetValueOrDefault(runId);
                active?.Control.Stop(RunStatus.Cancelled, reason);
            }
            // What this node had queued before the read: of those, the ones no longer queued in the store were
            // claimed by another node or cancelled, and leave the queue (runs queued after the read are kept).
            HashSet<string> known;
            lock (_lock) known = _pending.Where(p => p.Host == host).Select(p => p.Run.Id).ToHashSet(StringComparer.Ordinal);
            var queued = await host.Store.GetQueuedRunsAsync(_stopping.Token);
            lock (_lock)
            {
                var stillQueued = queued.Select(q => q.Run.Id).ToHashSet(StringComparer.Ordinal);
                _pending.RemoveAll(p => p.Host == host && known.Contains(p.Run.Id) && !stillQueued.Contains(p.Run.Id));
                var before = _pending.Count;
                foreach (var q in queued.Where(q => q.Run.ProjectId == host.Id)) AddPending(new Pending(host, q.Run, q.Request));
                if (_pending.Count != before) _pending.Sort((a, b) => a.Run.CreatedAt.CompareTo(b.Run.CreatedAt));
            }
        }
    }

    /// <summary>Starts what may start now; returns how long to wait before looking again (a retry's backoff).</summary>
    async Task<TimeSpan> DispatchAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var wait = TimeSpan.FromSeconds(5);
        var starting = new List<Active>();
        var stale = new HashSet<string>(StringComparer.Ordinal);
        lock (_lock)
        {
            var busy = _active.Values.GroupBy(a => (a.Host.Id, a.Run.Target)).ToDictionary(g => g.Key, g => g.Count());
            foreach (var pending in _pending)
            {
                if (_active.Count >= options.MaxConcurrentRuns) break;
                if (pending.Request.NotBefore is { } notBefore && notBefore > now)
                {
                    if (notBefore - now < wait) wait = notBefore - now;
                    continue;
                }
                if (_active.ContainsKey(pending.Run.Id)) { stale.Add(pending.Run.Id); continue; } // already running here
                var key = (pending.Host.Id, pending.Run.Target);
                var limit = pending.Host.Definition.Pipelines.TryGetValue(pending.Run.Target, out var pipeline) ? pipeline.Concurrency.MaxActive : int.MaxValue;
                if (busy.GetValueOrDefault(key) >= limit) continue;
                busy[key] = busy.GetValueOrDefault(key) + 1;
                var active = new Active(pending.Host, pending.Run, pending.Request);
                _active[pending.Run.Id] = active;
                starting.Add(active);
            }
            var ids = starting.Select(a => a.Run.Id).ToHashSet(StringComparer.Ordinal);
            _pending.RemoveAll(p => ids.Contains(p.Run.Id) || stale.Contains(p.Run.Id));
        }

        foreach (var active in starting)
        {
            var startedAt = DateTimeOffset.UtcNow;
            ClaimResult claimed;
            try
            {
                // On a shared store the pipeline's max_active counts the runs of every node, checked in the claim's transaction.
                int? limit = active.Host.Store.Shared && active.Host.Definition.Pipelines.TryGetValue(active.Run.Target, out var pipeline)
                    ? pipeline.Concurrency.MaxActive : null;
                claimed = await active.Host.Store.ClaimQueuedRunAsync(active.Run.Id, NodeId, startedAt, limit, CancellationToken.None);
            }
            catch (Exception e)
            {
                logger.LogError(e, "could not start run {RunId}; it stays queued", active.Run.Id);
                lock (_lock)
                {
                    _active.Remove(active.Run.Id);
                    _pending.Insert(0, new Pending(active.Host, active.Run, active.Request));
                }
                continue;
            }
            if (claimed == ClaimResult.Busy)
            {
                // Other nodes run this pipeline's max_active runs now: it waits its turn.
                lock (_lock)
                {
                    _active.Remove(active.Run.Id);
                    _pending.Insert(0, new Pending(active.Host, active.Run, active.Request));
                }
                continue;
            }
            if (claimed == ClaimResult.NotQueued)
            {
                // Cancelled (or taken by another node) since it was queued.
                lock (_lock) _active.Remove(active.Run.Id);
                continue;
            }
            logger.LogInformation("project {Project}: node {Node} executes run {RunId} of {Target}", active.Host.Id, NodeId, active.Run.Id, active.Run.Target);
            var run = active.Run with { Status = RunStatus.Running, StartedAt = startedAt };
            active.Task = Task.Run(() => ExecuteAsync(active, run), CancellationToken.None);
        }
        return wait;
    }

    async Task ExecuteAsync(Active active, Run run)
    {
        Run result;
        try
        {
            result = await active.Host.Runner.ExecuteAsync(run, null, active.Control);
        }
        catch (Exception e)
        {
            logger.LogError(e, "run {RunId} failed inside the executor", run.Id);
            // A store that could not be written (locked, full disk) is a cause to record, not an internal error.
            result = run with { Status = RunStatus.Failed, EndedAt = DateTimeOffset.UtcNow, Error = StoreFailures.IsStoreFailure(e) ? StoreFailures.Describe(e) : $"internal error: {e.Message}" };
            try { await active.Host.Store.UpdateRunAsync(result, CancellationToken.None); }
            catch (Exception inner) { logger.LogError(inner, "could not record run {RunId} as failed", run.Id); }
        }
        finally
        {
            lock (_lock)
                if (_active.TryGetValue(run.Id, out var current) && current == active) _active.Remove(run.Id);
            active.Control.Dispose();
            Wake();
        }
        if (active.Control.TakenOver)
        {
            // Another node took the run over (this node's heartbeat lapsed) and resumes it: no retry, no notice from here.
            logger.LogWarning("run {RunId} was taken over by another node while it ran here; its resumption finishes it", run.Id);
            return;
        }
        try
        {
            var retrying = await RetryIfAllowedAsync(active, result);
            if (!retrying) await notifier.RunFinishedAsync(active.Host, result, active.Request.Attempt, CancellationToken.None);
            if (await active.Host.Runner.RetrainRequestAsync(result, CancellationToken.None) is { } retrain)
                await SubmitAsync(active.Host, retrain, new RunRequestInfo(RequestedBy: $"drift in run {result.Id}"), ct: CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogError(e, "after run {RunId}: could not schedule its retry or notifications", run.Id);
        }
    }

    async Task<bool> RetryIfAllowedAsync(Active active, Run result)
    {
        // A retry requested while the server stops is queued in the store and runs after the next start.
        if (result.Status != RunStatus.Failed || active.Interrupted) return false;
        if (!active.Host.Definition.Pipelines.TryGetValue(result.Target, out var pipeline) || result.TargetKind != "pipeline") return false;
        var retries = pipeline.Retries;
        if (active.Request.Attempt > retries.Attempts) return false;
        var request = await active.Host.Runner.RetryRequestAsync(result.Id, CancellationToken.None);
        var info = new RunRequestInfo(active.Request.Attempt + 1, DateTimeOffset.UtcNow + retries.Backoff, "retry policy", active.Request.UserName);
        var retry = await SubmitAsync(active.Host, request, info, applyOverlapPolicy: false);
        await active.Host.Store.AppendLogAsync(result.Id, DateTimeOffset.UtcNow, "info", null, null,
            $"retrying as run {retry.Run.Id} (attempt {info.Attempt} of {retries.Attempts + 1}) after {retries.Backoff.TotalSeconds:0.###}s (retries: in {pipeline.Location.File})",
            CancellationToken.None);
        return true;
    }
}
