using Millrace.Storage;

namespace Millrace.Tests.Storage;

/// <summary>A failed run is resumed once: the store records one retry of it, however many are asked for at once.</summary>
public abstract partial class MetadataStoreContract
{
    static Run RetryOf(string parent, string id, RunStatus status = RunStatus.Queued) =>
        NewRun(id, status: status) with { Trigger = TriggerKind.Retry, ParentRunId = parent, StartedAt = null };

    [SkippableFact]
    [Trait("Category", "Security")]
    public async Task Concurrent_retries_of_one_run_record_one_retry_and_all_get_it()
    {
        await Store.CreateRunAsync(NewRun("failed-1", status: RunStatus.Failed), None);

        // Queued (server) and run at once (CLI) retries, all at the same time.
        var asked = Enumerable.Range(0, 8).Select(i => i % 2 == 0
            ? Store.EnqueueRunAsync(RetryOf("failed-1", $"retry-{i}"), new RunRequestInfo(), None)
            : Store.CreateRunAsync(RetryOf("failed-1", $"retry-{i}", RunStatus.Running), None)).ToList();
        var answers = await Task.WhenAll(asked);

        var recorded = (await Store.FindRunsAsync(new RunFilter(), new Page(0, 100), None)).Where(r => r.ParentRunId == "failed-1").ToList();
        var retry = Assert.Single(recorded);
        Assert.All(answers, a => Assert.Equal(retry.Id, a.Id));
        // A later retry gets the same run too.
        Assert.Equal(retry.Id, (await Store.EnqueueRunAsync(RetryOf("failed-1", "retry-late"), new RunRequestInfo(), None)).Id);
        Assert.Null(await Store.GetRunAsync("retry-late", None));
        Assert.Null(await Store.GetRunRequestAsync("retry-late", None));
    }

    [SkippableFact]
    [Trait("Category", "Security")]
    public async Task A_skipped_retry_does_not_use_up_the_runs_one_retry_and_a_retry_of_the_retry_is_its_own()
    {
        await Store.CreateRunAsync(NewRun("failed-2", status: RunStatus.Failed), None);

        await Store.EnqueueRunAsync(RetryOf("failed-2", "retry-skipped", RunStatus.Skipped), new RunRequestInfo(), None);
        var first = await Store.EnqueueRunAsync(RetryOf("failed-2", "retry-a"), new RunRequestInfo(), None);
        var ofTheRetry = await Store.CreateRunAsync(RetryOf("retry-a", "retry-b", RunStatus.Running), None);

        Assert.Equal("retry-a", first.Id);
        Assert.Equal("retry-b", ofTheRetry.Id);
        Assert.Equal("retry-a", (await Store.CreateRunAsync(RetryOf("failed-2", "retry-c", RunStatus.Running), None)).Id);
        // Reruns are not retries: a run can be rerun any number of times.
        var rerun1 = await Store.CreateRunAsync(NewRun("rerun-1") with { Trigger = TriggerKind.Rerun, ParentRunId = "failed-2" }, None);
        var rerun2 = await Store.CreateRunAsync(NewRun("rerun-2") with { Trigger = TriggerKind.Rerun, ParentRunId = "failed-2" }, None);
        Assert.Equal(["rerun-1", "rerun-2"], [rerun1.Id, rerun2.Id]);
    }
}
