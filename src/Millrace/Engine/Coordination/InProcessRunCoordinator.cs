using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Millrace.Definitions;
using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>
/// The coordinator of the CLI (<c>run</c>, <c>rerun</c>, <c>retry</c>, <c>backfill</c>, quickstart): runs each request
/// in this process under its target's <see cref="RunPolicy"/>, as the server would. A pipeline whose
/// <c>max_active</c> runs are running (here, in another CLI process or on a server sharing the store) makes the
/// request wait for a turn, or be recorded Skipped (<c>on_overlap: skip</c>, <see cref="SubmitOptions.Wait"/> false);
/// the run and the store's count of running runs are checked in one write, so the limit holds across processes.
/// A failed run is retried per <c>retries:</c>, and drift asks for retraining, through the same run-end chain.
/// </summary>
public sealed class InProcessRunCoordinator(Runner runner, ProjectDefinition project, IMetadataStore store, TimeProvider? clock = null, ILogger? logger = null, RunEndChain? chain = null)
    : RunCoordinator(chain ?? RunEndChain.Default, clock, logger)
{
    readonly ConcurrentDictionary<string, RunControl> _active = new(StringComparer.Ordinal);
    readonly Lock _lock = new();
    TaskCompletionSource _ended = NewSignal();

    public override ProjectDefinition Project => project;
    public override Runner Runner => runner;
    public override IMetadataStore Store => store;

    /// <summary>How often a waiting request looks at the store again for runs of other processes that ended (runs of this process wake it at once).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a backfill date that lost a commit race to a parallel date runs again before it is left failed.</summary>
    public int ConflictAttempts { get; init; } = 10;

    public override async Task<RunResult> SubmitAsync(RunRequest request, RunRequestInfo info, SubmitOptions? options, CancellationToken ct)
    {
        options ??= SubmitOptions.Default;
        var policy = PolicyFor(request.Target);
        var run = Runner.Prepare(request, RunStatus.Running);
        if (info.NotBefore is { } notBefore && notBefore > Clock.GetUtcNow()) await Task.Delay(notBefore - Clock.GetUtcNow(), Clock, ct);
        if (options.ApplyOverlapPolicy && policy.OnOverlap == OverlapPolicy.Skip && await SkippedWhenBusyAsync(run, policy, "on_overlap: skip", ct) is { } skipped)
            return await RecordSkippedAsync(skipped, info, ct);

        Run? recorded;
        var waited = false;
        while (true)
        {
            var ended = CurrentSignal();
            run = run with { StartedAt = Clock.GetUtcNow() };
            recorded = await Runner.RecordAsync(run, policy.Limited ? policy.MaxActive : null, ct);
            if (recorded is not null) break;
            if (!options.Wait)
            {
                // The create found max_active runs; one may have ended since, and the count says at least that many.
                var busy = Math.Max(await Store.CountActiveRunsAsync(Project.Id, run.Target, ct), policy.MaxActive);
                return await RecordSkippedAsync(Skipped(run, policy, busy, "and the request was not to wait (--no-wait)"), info, ct);
            }
            if (!waited)
            {
                options.Waiting?.Invoke(run, await Store.CountActiveRunsAsync(Project.Id, run.Target, ct));
                waited = true;
            }
            // A run of this process that ends wakes the wait at once; runs of other processes are seen at the next poll.
            await Task.WhenAny(ended, Task.Delay(PollInterval, Clock, ct));
            ct.ThrowIfCancellationRequested();
        }
        if (recorded.Id != run.Id) return new RunResult(recorded, null, Earlier: true);
        if (options.Recorded is not null) await options.Recorded(recorded);

        RunResult result;
        using (var control = new RunControl())
        {
            _active[recorded.Id] = control;
            try
            {
                result = await Runner.ExecuteAsync(recorded, options.Observer, control, ct);
            }
            finally
            {
                _active.TryRemove(recorded.Id, out _);
                Signal();
            }
        }
        var end = new RunEnd(result, info, policy, options);
        await EndedAsync(end, ct);
        return result with { Next = end.Retry };
    }

    /// <summary>A run whose process died is still recorded running: mark it interrupted first, so that it can be retried.</summary>
    protected override Task BeforeRetryAsync(CancellationToken ct) => Runner.RecoverInterruptedAsync(ct);

    public override async Task<CancelOutcome> CancelAsync(string runId, string by, CancellationToken ct)
    {
        if (_active.TryGetValue(runId, out var control))
            return control.Stop(RunStatus.Cancelled, $"cancelled by {by}", FailureKind.Cancelled) || control.StopStatus is not null ? CancelOutcome.Stopping : CancelOutcome.NotActive;
        return await CancelElsewhereAsync(runId, by, "", ct);
    }

    /// <summary>
    /// Runs a backfill plan, up to <paramref name="parallel"/> dates at once and never more than the pipeline's
    /// <c>max_active</c>. A date that loses a commit race to a parallel date (<see cref="FailureKind.Conflict"/>) runs
    /// again on the new version after a random pause, up to <see cref="ConflictAttempts"/> times.
    /// <paramref name="finished"/> hears each date's last run.
    /// </summary>
    public async Task<IReadOnlyList<RunResult>> BackfillAsync(BackfillPlan plan, int parallel, RunRequestInfo info, Action<DateOnly, RunResult> finished, CancellationToken ct)
    {
        var results = new List<RunResult>();
        using var gate = new SemaphoreSlim(EffectiveParallelism(plan.Target, parallel));
        await Task.WhenAll(plan.Dates.Select(async date =>
        {
            await gate.WaitAsync(ct);
            try
            {
                RunResult result;
                for (var attempt = 1; ; attempt++)
                {
                    result = (await SubmitAsync(plan.RequestFor(date), info, new SubmitOptions(ApplyOverlapPolicy: false), ct)).Final;
                    if (result.Failure != FailureKind.Conflict || attempt >= ConflictAttempts) break;
                    // The dates that collided must not collide again in lockstep.
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(20, 200) * attempt), Clock, ct);
                }
                lock (results) results.Add(result);
                finished(date, result);
            }
            finally
            {
                gate.Release();
            }
        }));
        return results;
    }

    /// <summary>How many dates of a backfill run at once: <paramref name="requested"/>, at most the target's <c>max_active</c>.</summary>
    public int EffectiveParallelism(string target, int requested) => Math.Max(1, Math.Min(requested, PolicyFor(target).MaxActive));

    static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    Task CurrentSignal()
    {
        lock (_lock) return _ended.Task;
    }

    void Signal()
    {
        TaskCompletionSource ended;
        lock (_lock) (ended, _ended) = (_ended, NewSignal());
        ended.TrySetResult();
    }
}
