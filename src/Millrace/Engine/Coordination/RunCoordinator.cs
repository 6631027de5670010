using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Millrace.Definitions;
using Millrace.Engine.Dates;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>
/// Owns when a project's runs start and what follows their end: submit, cancel, retry, rerun and backfill planning,
/// under one <see cref="RunPolicy"/> per target, with the <see cref="RunEndChain"/> called once per run end. Two
/// kinds share it: <see cref="InProcessRunCoordinator"/> (the CLI: runs a request in this process once the store
/// has a free slot) and the server's queued coordinator (records requests in the store's queue for its dispatcher).
/// Dagster's run coordinator is the model.
/// </summary>
public abstract class RunCoordinator(RunEndChain chain, TimeProvider? clock, ILogger? logger)
{
    /// <summary>The definitions requests are checked against now (a server reload swaps them).</summary>
    public abstract ProjectDefinition Project { get; }

    /// <summary>The runner that records and executes the runs.</summary>
    public abstract Runner Runner { get; }

    public abstract IMetadataStore Store { get; }

    public TimeProvider Clock { get; } = clock ?? TimeProvider.System;

    protected ILogger Logger { get; } = logger ?? NullLogger.Instance;

    /// <summary>The policy of <paramref name="target"/> under the current definitions.</summary>
    public RunPolicy PolicyFor(string target) => RunPolicy.For(Project, target);

    /// <summary>
    /// Submits a request: checks it (bad targets and parameters throw <see cref="RunRequestException"/>, nothing
    /// recorded), applies the target's policy and records it. The in-process coordinator returns when the run (and
    /// any retry of it) has ended; the queued one as soon as the request is queued.
    /// </summary>
    public abstract Task<RunResult> SubmitAsync(RunRequest request, RunRequestInfo info, SubmitOptions? options, CancellationToken ct);

    /// <summary>Cancels a queued run (it never starts) or stops a running one (it records itself cancelled).</summary>
    public abstract Task<CancelOutcome> CancelAsync(string runId, string by, CancellationToken ct);

    /// <summary>Resumes a failed or cancelled run from its first uncommitted workflow (see <see cref="Runner.RetryRequestAsync"/>).</summary>
    public async Task<RunResult> RetryAsync(string runId, RunRequestInfo info, SubmitOptions? options, CancellationToken ct)
    {
        await BeforeRetryAsync(ct);
        return await SubmitAsync(await Runner.RetryRequestAsync(runId, ct), info, options, ct);
    }

    /// <summary>What comes before a retry request is made (the in-process coordinator records runs of dead processes as interrupted, so they can be retried).</summary>
    protected virtual Task BeforeRetryAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>Runs a run's target again with its original parameters and run date (see <see cref="Runner.RerunRequestAsync"/>).</summary>
    public async Task<RunResult> RerunAsync(string runId, RunRequestInfo info, SubmitOptions? options, CancellationToken ct) =>
        await SubmitAsync(await Runner.RerunRequestAsync(runId, ct), info, options, ct);

    /// <summary>
    /// Plans a backfill of <paramref name="target"/> from <paramref name="from"/> to <paramref name="to"/> (inclusive):
    /// one run per date, leaving out dates that already have a succeeded (or up-to-date) run unless <paramref name="rerunSucceeded"/>.
    /// With <paramref name="only"/>, it plans exactly the dates whose <see cref="PipelineDates"/> status is in the set
    /// (and <paramref name="rerunSucceeded"/> is not used); the others are <see cref="BackfillPlan.LeftOut"/>.
    /// Throws <see cref="RunRequestException"/> for an unknown target, a range out of order or longer than
    /// <see cref="MaxBackfillDates"/>, variables that set <c>run.date</c>, or an <paramref name="only"/> status a
    /// backfill cannot take (queued, running).
    /// </summary>
    public async Task<BackfillPlan> PlanBackfillAsync(string target, DateOnly from, DateOnly to, IReadOnlyList<KeyValuePair<string, string>> variables, bool rerunSucceeded,
        CancellationToken ct, IReadOnlySet<DateStatus>? only = null)
    {
        Runner.DeclaredParameters(target);
        if (to < from) throw new RunRequestException("the last date is before the first");
        if (to.DayNumber - from.DayNumber >= MaxBackfillDates) throw new RunRequestException(string.Create(CultureInfo.InvariantCulture, $"a backfill covers at most {MaxBackfillDates} dates"));
        if (variables.Any(v => v.Key == BuiltInParameters.RunDate)) throw new RunRequestException("backfill sets run.date itself; leave it out of the parameters");
        if (only?.Where(s => !DateStatusNames.Backfillable.Contains(s)).ToList() is [var refused, ..])
            throw new RunRequestException($"a backfill cannot plan '{DateStatusNames.Name(refused)}' dates; choose from {string.Join(", ", DateStatusNames.Backfillable.Select(DateStatusNames.Name))}");
        // One listing of the range (PipelineDates), not a query per date.
        var listed = await new PipelineDates(Store, Project.Id).ListAsync(target, from, to, ct);
        if (only is not null)
            return new BackfillPlan(target, [.. listed.Where(d => only.Contains(d.Status)).Select(d => d.Date)], [], variables)
            {
                LeftOut = [.. listed.Where(d => !only.Contains(d.Status)).Select(d => d.Date)],
                Only = only,
                Statuses = listed.ToDictionary(d => d.Date, d => d.Status),
            };
        var done = listed.Where(d => !rerunSucceeded && (d.RunCounts.GetValueOrDefault(RunStatus.Succeeded) > 0 || d.RunCounts.GetValueOrDefault(RunStatus.UpToDate) > 0)).Select(d => d.Date).ToHashSet();
        return new BackfillPlan(target, [.. listed.Select(d => d.Date).Where(d => !done.Contains(d))], [.. done.Order()], variables)
        {
            Statuses = listed.ToDictionary(d => d.Date, d => d.Status),
        };
    }

    /// <summary>The longest backfill, in dates (ten years).</summary>
    public const int MaxBackfillDates = 3660;

    /// <summary>Calls the run-end chain once for a run's end; the in-process coordinator and the server's dispatcher both come here.</summary>
    public Task EndedAsync(RunEnd end, CancellationToken ct) => chain.HandleAsync(this, end, Logger, ct);

    /// <summary>
    /// <paramref name="run"/> as a Skipped run when its target already has <c>max_active</c> runs queued or running
    /// in the store (any node, any process); null when there is room.
    /// </summary>
    protected async Task<Run?> SkippedWhenBusyAsync(Run run, RunPolicy policy, string why, CancellationToken ct)
    {
        if (!policy.Limited) return null;
        var busy = await Store.CountActiveRunsAsync(Project.Id, run.Target, ct);
        return busy < policy.MaxActive ? null : Skipped(run, policy, busy, why);
    }

    /// <summary><paramref name="run"/> recorded Skipped because its target had <paramref name="busy"/> runs active.</summary>
    protected Run Skipped(Run run, RunPolicy policy, int busy, string why) =>
        run with { Status = RunStatus.Skipped, StartedAt = null, EndedAt = Clock.GetUtcNow(), Error = policy.SkipReason(run.Target, busy, why) };

    /// <summary>
    /// Cancels <paramref name="runId"/> when it does not run in this process: a queued run never starts, and a run on
    /// another node sharing the store is asked to stop (<paramref name="via"/> says through whom, in its reason).
    /// </summary>
    protected async Task<CancelOutcome> CancelElsewhereAsync(string runId, string by, string via, CancellationToken ct)
    {
        if (await Store.CancelQueuedRunAsync(runId, $"cancelled by {by} before it started", ct)) return CancelOutcome.CancelledQueued;
        return Store.Shared && await Store.RequestCancelAsync(runId, $"cancelled by {by}{via}", ct) ? CancelOutcome.Stopping : CancelOutcome.NotActive;
    }

    /// <summary>Records a Skipped run (with its reason in its log) as the request's answer.</summary>
    protected async Task<RunResult> RecordSkippedAsync(Run skipped, RunRequestInfo info, CancellationToken ct)
    {
        var recorded = await Store.EnqueueRunAsync(skipped, info, ct);
        if (recorded.Id != skipped.Id) return new RunResult(recorded, null, Earlier: true);
        await Store.AppendLogAsync(recorded.Id, Clock.GetUtcNow(), "warn", null, null, recorded.Error!, CancellationToken.None);
        return new RunResult(recorded, FailureKind.Skipped);
    }
}

/// <summary>How a request is submitted.</summary>
/// <param name="ApplyOverlapPolicy">Apply <c>on_overlap: skip</c> (false for retries and backfills, which are meant to wait).</param>
/// <param name="Wait">When the pipeline has <c>max_active</c> runs running, wait for a turn (true) or record the request Skipped (false: <c>--no-wait</c>).</param>
/// <param name="Observer">Hears the run as it happens (in process only).</param>
/// <param name="Recorded">Called once the run is recorded, before it runs.</param>
/// <param name="Waiting">Called once when the request waits for a turn, with the run and the number of its target's runs queued or running.</param>
public sealed record SubmitOptions(
    bool ApplyOverlapPolicy = true,
    bool Wait = true,
    IRunObserver? Observer = null,
    Func<Run, Task>? Recorded = null,
    Action<Run, int>? Waiting = null)
{
    public static SubmitOptions Default { get; } = new();
}

/// <summary>What cancelling a run did.</summary>
public enum CancelOutcome { CancelledQueued, Stopping, NotActive }

/// <summary>
/// The dates a backfill runs (one run each, <c>run.date</c> = the date) and the dates it leaves because they already
/// succeeded, or, planned with <c>--only</c>, because their status is not in <see cref="Only"/> (<see cref="LeftOut"/>).
/// </summary>
public sealed record BackfillPlan(string Target, IReadOnlyList<DateOnly> Dates, IReadOnlyList<DateOnly> Succeeded, IReadOnlyList<KeyValuePair<string, string>> Variables)
{
    /// <summary>The dates left out because their status is not in <see cref="Only"/> (empty without it).</summary>
    public IReadOnlyList<DateOnly> LeftOut { get; init; } = [];

    /// <summary>The statuses the plan was limited to (<c>--only</c>), or null.</summary>
    public IReadOnlySet<DateStatus>? Only { get; init; }

    /// <summary>Every date of the range with its status when planned (<see cref="PipelineDates"/>).</summary>
    public IReadOnlyDictionary<DateOnly, DateStatus> Statuses { get; init; } = new Dictionary<DateOnly, DateStatus>();

    /// <summary>The request of one date of the plan (trigger Backfill).</summary>
    public RunRequest RequestFor(DateOnly date) =>
        new(Target, [.. Variables, new(BuiltInParameters.RunDate, date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))], TriggerKind.Backfill);
}
