using Millrace.Engine;
using Millrace.Server.Hosting;
using Millrace.Storage;

namespace Millrace.Server.Execution;

/// <summary>
/// This node's view of the run queue: the requests waiting to start (oldest first) and the runs executing here. The
/// requests themselves live in the store (Queued runs), so a restart loads them again; this is where the dispatcher
/// picks from. Thread-safe.
/// </summary>
public sealed class RunQueue
{
    /// <summary>A request waiting to start.</summary>
    public sealed record Pending(ProjectHost Host, Run Run, RunRequestInfo Request);

    /// <summary>A run executing on this node, with what stops it.</summary>
    public sealed class Active(ProjectHost host, Run run, RunRequestInfo request)
    {
        public ProjectHost Host { get; } = host;
        public Run Run { get; } = run;
        public RunRequestInfo Request { get; } = request;
        public RunControl Control { get; } = new();
        public Task? Task { get; set; }
    }

    readonly Lock _lock = new();
    readonly List<Pending> _pending = [];
    readonly Dictionary<string, Active> _active = new(StringComparer.Ordinal);
    bool _woken;
    TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Requests waiting to start, across projects.</summary>
    public int QueuedCount { get { lock (_lock) return _pending.Count; } }

    /// <summary>Runs executing now.</summary>
    public int RunningCount { get { lock (_lock) return _active.Count; } }

    /// <summary>Adds requests unless this node already has them queued or running, keeping the queue oldest first; wakes the dispatcher.</summary>
    public void Add(IEnumerable<Pending> requests)
    {
        lock (_lock)
        {
            var before = _pending.Count;
            foreach (var pending in requests)
                if (!_active.ContainsKey(pending.Run.Id) && !_pending.Any(p => p.Run.Id == pending.Run.Id)) _pending.Add(pending);
            if (_pending.Count == before) return;
            _pending.Sort((a, b) => a.Run.CreatedAt.CompareTo(b.Run.CreatedAt));
        }
        Wake();
    }

    /// <summary>Adds one request (see <see cref="Add(IEnumerable{Pending})"/>).</summary>
    public void Add(Pending pending) => Add([pending]);

    /// <summary>Puts back at the head of the queue a run that could not start now.</summary>
    public void PutBack(Active active)
    {
        lock (_lock)
        {
            _active.Remove(active.Run.Id);
            _pending.Insert(0, new Pending(active.Host, active.Run, active.Request));
        }
    }

    /// <summary>Forgets a run that was to start (cancelled or claimed elsewhere meanwhile) or has ended.</summary>
    public void Finished(Active active)
    {
        lock (_lock)
            if (_active.TryGetValue(active.Run.Id, out var current) && current == active) _active.Remove(active.Run.Id);
        Wake();
    }

    /// <summary>Removes a queued request of <paramref name="host"/>; returns the active run instead when it is executing here.</summary>
    public Active? RemoveQueued(ProjectHost host, string runId)
    {
        lock (_lock)
        {
            if (_active.TryGetValue(runId, out var active) && active.Host == host) return active;
            _pending.RemoveAll(p => p.Run.Id == runId && p.Host == host);
            return null;
        }
    }

    /// <summary>The run executing here with that id, or null.</summary>
    public Active? Running(string runId)
    {
        lock (_lock) return _active.GetValueOrDefault(runId);
    }

    /// <summary>Every run executing here now.</summary>
    public IReadOnlyList<Active> AllRunning()
    {
        lock (_lock) return [.. _active.Values];
    }

    /// <summary>The ids of the requests of <paramref name="host"/> queued here.</summary>
    public IReadOnlySet<string> QueuedIds(ProjectHost host)
    {
        lock (_lock) return _pending.Where(p => p.Host == host).Select(p => p.Run.Id).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Drops the requests of <paramref name="host"/> among <paramref name="ids"/> (claimed by another node or cancelled).</summary>
    public void Drop(ProjectHost host, IReadOnlySet<string> ids)
    {
        lock (_lock) _pending.RemoveAll(p => p.Host == host && ids.Contains(p.Run.Id));
    }

    /// <summary>
    /// Takes the requests that may start now, oldest first, within <paramref name="maxRunning"/> runs on this node and
    /// each pipeline's <c>max_active</c> among them, and marks them active. Returns them with how long to wait before
    /// looking again for a request whose backoff has not passed.
    /// </summary>
    public (IReadOnlyList<Active> Starting, TimeSpan Wait) TakeStartable(int maxRunning, DateTimeOffset now, TimeSpan longestWait)
    {
        var wait = longestWait;
        var starting = new List<Active>();
        var stale = new HashSet<string>(StringComparer.Ordinal);
        lock (_lock)
        {
            var busy = _active.Values.GroupBy(a => (a.Host.Id, a.Run.Target)).ToDictionary(g => g.Key, g => g.Count());
            foreach (var pending in _pending)
            {
                if (_active.Count >= maxRunning) break;
                if (pending.Request.NotBefore is { } notBefore && notBefore > now)
                {
                    if (notBefore - now < wait) wait = notBefore - now;
                    continue;
                }
                if (_active.ContainsKey(pending.Run.Id)) { stale.Add(pending.Run.Id); continue; } // already running here
                var key = (pending.Host.Id, pending.Run.Target);
                if (busy.GetValueOrDefault(key) >= RunPolicy.For(pending.Host.Definition, pending.Run.Target).MaxActive) continue;
                busy[key] = busy.GetValueOrDefault(key) + 1;
                var active = new Active(pending.Host, pending.Run, pending.Request);
                _active[pending.Run.Id] = active;
                starting.Add(active);
            }
            var ids = starting.Select(a => a.Run.Id).ToHashSet(StringComparer.Ordinal);
            _pending.RemoveAll(p => ids.Contains(p.Run.Id) || stale.Contains(p.Run.Id));
        }
        return (starting, wait);
    }

    /// <summary>Wakes the dispatcher (a request arrived, a run ended); a wake before the dispatcher waits is kept.</summary>
    public void Wake()
    {
        TaskCompletionSource signal;
        lock (_lock) (_woken, signal) = (true, _signal);
        signal.TrySetResult();
    }

    /// <summary>Waits until woken (or returns at once when woken since the last wait) or <paramref name="wait"/> has passed on <paramref name="clock"/>.</summary>
    public async Task WaitAsync(TimeSpan wait, TimeProvider clock, CancellationToken ct)
    {
        Task signal;
        lock (_lock)
        {
            if (_woken)
            {
                _woken = false;
                return;
            }
            if (_signal.Task.IsCompleted) _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
            signal = _signal.Task;
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        await Task.WhenAny(signal, Task.Delay(wait, clock, stop.Token));
        await stop.CancelAsync();
        lock (_lock) _woken = false;
        ct.ThrowIfCancellationRequested();
    }
}
