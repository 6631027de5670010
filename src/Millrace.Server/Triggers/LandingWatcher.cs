using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Millrace.Definitions;
using Millrace.Server.Execution;
using Millrace.Server.Hosting;
using Millrace.Triggers;

namespace Millrace.Server.Triggers;

/// <summary>
/// How a pipeline's landing trigger polls on this node: how many polls, the last that succeeded, and while the last one
/// failed, why (<c>LastError</c>: the lake could not be listed) and when; null once a poll succeeds again.
/// </summary>
public sealed record LandingTriggerStatus(string ProjectId, string Pipeline, long Polls, DateTimeOffset? LastPollAt, string? LastError, DateTimeOffset? LastErrorAt);

/// <summary>
/// Polls the landing triggers (<c>trigger:</c>) of every hosted project: each pipeline's every <c>poll</c> by the
/// server's clock, and at once when a file-system notification says something changed in a local lake's feed folders
/// (notifications only wake it; the listing decides, so a lost notification costs one poll interval). Each poll is a
/// <see cref="LandingTrigger"/> poll through the project's queued coordinator, so runs start once per date on any
/// number of nodes. A lake that cannot be listed logs an error, keeps the stored state and shows in
/// <see cref="AllStatuses"/> (the trigger endpoint and <c>/healthz</c>) until a poll succeeds. Definitions reloaded are
/// picked up at the next poll.
/// </summary>
public sealed class LandingWatcher(ProjectRegistry projects, RunExecutor executor, TimeProvider clock, ILogger<LandingWatcher> logger) : IDisposable
{
    /// <summary>How often a host's loop wakes to see which triggers are due (a trigger polls every <c>poll</c>).</summary>
    static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    readonly ConcurrentDictionary<(string Project, string Pipeline), LandingTriggerStatus> _status = new();
    readonly CancellationTokenSource _stopping = new();
    readonly List<Task> _loops = [];
    readonly List<IDisposable> _watchers = [];

    /// <summary>Raised after each poll of a pipeline (succeeded or failed), with its status: what tests and the UI wait on.</summary>
    public event Action<LandingTriggerStatus>? Polled;

    /// <summary>The trigger status of every triggered pipeline polled on this node.</summary>
    public IReadOnlyList<LandingTriggerStatus> AllStatuses() => _status.Values.OrderBy(s => (s.ProjectId, s.Pipeline)).ToList();

    /// <summary>One pipeline's status, or null before its first poll.</summary>
    public LandingTriggerStatus? Status(string projectId, string pipeline) => _status.GetValueOrDefault((projectId, pipeline));

    /// <summary>Starts one loop per hosted project; each polls its triggered pipelines once at once.</summary>
    public void Start()
    {
        foreach (var host in projects.All)
        {
            var wake = new SemaphoreSlim(0);
            _watchers.Add(wake);
            WatchLocalLake(host, wake);
            _loops.Add(Task.Run(() => LoopAsync(host, wake, _stopping.Token), CancellationToken.None));
        }
    }

    /// <summary>Stops polling and waits for a poll under way to end.</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_loops);
    }

    public void Dispose()
    {
        foreach (var watcher in _watchers) watcher.Dispose();
        _stopping.Dispose();
    }

    void WatchLocalLake(ProjectHost host, SemaphoreSlim wake)
    {
        if (host.Definition.S3Lake is not null || !Directory.Exists(host.Definition.LakeRoot)) return;
        var folders = host.Definition.Pipelines.Values.Select(p => p.Trigger).OfType<TriggerDefinition>()
            .SelectMany(t => t.Feeds).Select(f => f.Folder.Split('/')[0]).Distinct(StringComparer.Ordinal).ToList();
        foreach (var top in folders)
        {
            var folder = Path.Combine(host.Definition.LakeRoot, top);
            try
            {
                if (!Directory.Exists(folder)) folder = host.Definition.LakeRoot;
                var watcher = new FileSystemWatcher(folder) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Size | NotifyFilters.LastWrite };
                void Wake(object? _, FileSystemEventArgs e)
                {
                    if (wake.CurrentCount == 0) wake.Release();
                }
                watcher.Created += Wake;
                watcher.Changed += Wake;
                watcher.Deleted += Wake;
                watcher.Renamed += (s, e) => Wake(s, e);
                watcher.EnableRaisingEvents = true;
                _watchers.Add(watcher);
            }
            catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
            {
                // Notifications are an optimisation: without them the poll interval still finds every file.
                logger.LogWarning("{Project}: no file-system notifications for {Folder} ({Error}); landing triggers poll only", host.Id, folder, e.Message);
            }
        }
    }

    async Task LoopAsync(ProjectHost host, SemaphoreSlim wake, CancellationToken ct)
    {
        var due = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        using var timer = new PeriodicTimer(Tick, clock);
        Task<bool>? tick = null;
        Task? woken = null;
        var first = true;
        while (!ct.IsCancellationRequested)
        {
            var now = clock.GetUtcNow();
            var wokenNow = first || woken?.IsCompleted == true;
            if (woken?.IsCompleted == true) woken = null;
            first = false;
            foreach (var pipeline in host.Definition.Pipelines.Values.Where(p => p.Trigger is not null))
            {
                // Half a tick of slack: a tick that comes a hair before the due time polls, rather than a whole tick later.
                if (!wokenNow && due.TryGetValue(pipeline.Name, out var next) && now + Tick / 2 < next) continue;
                due[pipeline.Name] = now + pipeline.Trigger!.Poll;
                await PollAsync(host, pipeline, ct);
                if (ct.IsCancellationRequested) return;
            }
            tick ??= timer.WaitForNextTickAsync(ct).AsTask();
            woken ??= wake.WaitAsync(ct);
            try
            {
                await Task.WhenAny(tick, woken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (tick.IsCompleted)
            {
                if (tick.IsCanceled || tick.IsFaulted) return;
                tick = null;
            }
            if (woken.IsCanceled) return;
        }
    }

    async Task PollAsync(ProjectHost host, PipelineDefinition pipeline, CancellationToken ct)
    {
        var previous = Status(host.Id, pipeline.Name);
        LandingTriggerStatus status;
        try
        {
            await new LandingTrigger(executor.For(host), host.OpenLake(), logger).PollAsync(pipeline, ct);
            if (previous?.LastError is not null) logger.LogInformation("{Project}/{Pipeline}: the landing trigger lists the lake again", host.Id, pipeline.Name);
            status = new LandingTriggerStatus(host.Id, pipeline.Name, (previous?.Polls ?? 0) + 1, clock.GetUtcNow(), null, null);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            // The lake (or the store) could not be read: nothing was recorded, the dates keep their state.
            logger.LogError("{Project}/{Pipeline}: the landing trigger's poll failed, state kept: {Error}", host.Id, pipeline.Name, e.Message);
            status = new LandingTriggerStatus(host.Id, pipeline.Name, (previous?.Polls ?? 0) + 1, previous?.LastPollAt, e.Message, clock.GetUtcNow());
        }
        _status[(host.Id, pipeline.Name)] = status;
        Polled?.Invoke(status);
    }
}
