using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>Runs whose process died, runs whose end the store could not take, and what a resumed run asks for.</summary>
public sealed partial class Runner
{
    /// <summary>
    /// How long the end of a run is retried when the store cannot be written (a lock held by another process, a full
    /// disk), on top of the store's own busy timeout, before the run is left for recovery with its cause in a note.
    /// </summary>
    public TimeSpan StoreRetryWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Records the end of <paramref name="run"/>, the one way a run's end is written (fenced: false, with nothing
    /// written, when the run is no longer Running because another node took it over). When the store cannot be
    /// written, tries again until <see cref="StoreRetryWindow"/> has passed; then keeps the cause in a note (see
    /// <see cref="StoreFailureNotes"/>) and throws <see cref="RunNotRecordedException"/> with the cause.
    /// </summary>
    public async Task<bool> RecordEndAsync(Run run)
    {
        var deadline = Clock.GetUtcNow() + StoreRetryWindow;
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                return await store.FinishRunAsync(run, CancellationToken.None);
            }
            catch (Exception e) when (StoreFailures.IsStoreFailure(e))
            {
                if (Clock.GetUtcNow() + delay < deadline)
                {
                    await Task.Delay(delay, Clock);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.TicksPerSecond * 5));
                    continue;
                }
                var outcome = $"{run.Status.ToString().ToLowerInvariant()}{(run.Error is null ? "" : ": " + run.Error)}";
                var kept = StoreFailureNotes.Write(project, run.Id, $"the run ended ({outcome}), but its end could not be recorded: {StoreFailures.Describe(e)}");
                throw new RunNotRecordedException(
                    $"run {run.Id} {outcome}; its end could not be recorded either: {StoreFailures.Describe(e)}. It stays 'running' in the store until the next " +
                    $"command finds it interrupted{(kept ? " and records this cause" : "")}; then resume it with 'millrace retry {run.Id}'", e);
            }
        }
    }

    /// <summary>
    /// Marks runs still recorded as running whose process on this host has died as failed ("interrupted"), with
    /// their running steps, and runs recorded as running without an owner (a process killed before it could say who
    /// it was, by a version that recorded the owner in a second write). Nothing they did after their last workflow
    /// commit is visible; a retry (<see cref="RetryRequestAsync"/>) resumes them. Returns how many were marked.
    /// </summary>
    public async Task<int> RecoverInterruptedAsync(CancellationToken ct)
    {
        var marked = 0;
        foreach (var (stale, owner, message) in await FindInterruptedAsync(ct))
        {
            // Conditional on the run still being Running under that owner: two processes recovering at once mark it once.
            if (await store.TakeOverRunAsync(stale.Id, owner, message, Clock.GetUtcNow(), null, ct))
            {
                marked++;
                StoreFailureNotes.Remove(project, stale.Id);
            }
        }
        return marked;
    }

    /// <summary>
    /// The runs <see cref="RecoverInterruptedAsync"/> would mark, with their owner and the error they would record
    /// (<c>gc --dry-run</c> lists them without marking them).
    /// </summary>
    public async Task<IReadOnlyList<(Run Run, string? Owner, string Message)>> FindInterruptedAsync(CancellationToken ct)
    {
        var found = new List<(Run, string?, string)>();
        // On a shared store, the runs of server nodes are left to the servers: they take them over and resume them.
        var nodes = store.Shared ? (await store.GetClusterNodesAsync(ct)).Select(n => n.Node).ToHashSet(StringComparer.Ordinal) : [];
        foreach (var (stale, owner) in await store.GetRunningRunsAsync(ct))
        {
            if (owner is null)
            {
                found.Add((stale, null, $"interrupted: the run was recorded without the process that ran it, which exited before it could record itself; nothing of it is visible. Resume with 'millrace retry {stale.Id}'"));
                continue;
            }
            if (!Node.IsDeadOnThisHost(owner) || nodes.Contains(owner)) continue;
            var pid = owner.Split('|')[1];
            // A run that ended because the store could not be written left its cause in a note: record that cause.
            var message = StoreFailureNotes.Read(project, stale.Id) is { } cause
                ? $"interrupted: {cause}. Resume with 'millrace retry {stale.Id}'"
                : $"interrupted: the process that ran it (pid {pid}) exited before the run finished; its uncommitted work is not visible. Resume with 'millrace retry {stale.Id}'";
            found.Add((stale, owner, message));
        }
        return found;
    }

    /// <summary>
    /// What the run's workflows measured: this run's drift results, and for each workflow it reused from the run it
    /// resumes (a retry skips what its parent committed), the results of the attempt that committed it.
    /// </summary>
    async Task<IReadOnlyList<DriftResult>> DriftOfCommittedWorkflowsAsync(Run run, CancellationToken ct)
    {
        var results = (await store.GetDriftResultsAsync(run.Id, ct)).ToList();
        var reused = (await store.GetWorkflowRunsAsync(run.Id, ct)).Where(w => w.Status == RunStatus.Skipped && w.CommittedAt is null)
            .Select(w => w.Workflow).ToHashSet(StringComparer.Ordinal);
        var (attemptId, trigger, hops) = (run.ParentRunId, run.Trigger, 0);
        while (reused.Count > 0 && trigger == TriggerKind.Retry && attemptId is not null && hops++ < 1000)
        {
            var attempt = await store.GetRunAsync(attemptId, ct);
            if (attempt is null) break;
            var committedThere = (await store.GetWorkflowRunsAsync(attempt.Id, ct)).Where(w => w.CommittedAt is not null && reused.Contains(w.Workflow))
                .Select(w => w.Workflow).ToHashSet(StringComparer.Ordinal);
            results.AddRange((await store.GetDriftResultsAsync(attempt.Id, ct)).Where(d => committedThere.Contains(d.Workflow)));
            reused.ExceptWith(committedThere);
            (attemptId, trigger) = (attempt.ParentRunId, attempt.Trigger);
        }
        return results;
    }
}
