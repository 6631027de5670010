using Millrace.Storage;

namespace Millrace.Tests.Storage;

/// <summary>The run queue's part of the store contract: requests, claims, cancellations.</summary>
public abstract partial class MetadataStoreContract
{
    static readonly DateTimeOffset S0 = new(2024, 3, 1, 8, 0, 0, TimeSpan.Zero);

    [SkippableFact]
    public async Task Enqueued_runs_are_listed_oldest_first_with_their_request_and_a_repeated_run_key_returns_the_first()
    {
        await Store.EnqueueRunAsync(NewRun("run-b", createdAt: S0.AddSeconds(2), status: RunStatus.Queued) with { StartedAt = null }, new RunRequestInfo(2, S0.AddMinutes(5), "retry policy", "ann"), None);
        await Store.EnqueueRunAsync(NewRun("run-a", createdAt: S0, status: RunStatus.Queued, runKey: "k1") with { StartedAt = null }, new RunRequestInfo(RequestedBy: "token:abc"), None);

        var again = await Store.EnqueueRunAsync(NewRun("run-c", createdAt: S0.AddSeconds(3), status: RunStatus.Queued, runKey: "k1"), new RunRequestInfo(), None);

        Assert.Equal("run-a", again.Id);
        Assert.Null(await Store.GetRunAsync("run-c", None));
        var queued = await Store.GetQueuedRunsAsync(None);
        Assert.Equal(["run-a", "run-b"], queued.Select(q => q.Run.Id));
        Assert.Equal(new RunRequestInfo(2, S0.AddMinutes(5), "retry policy", "ann"), queued[1].Request);
        Assert.Equal(new RunRequestInfo(1, null, "token:abc", null), await Store.GetRunRequestAsync("run-a", None));
        Assert.Null(await Store.GetRunRequestAsync("nope", None));
    }

    [SkippableFact]
    public async Task A_queued_run_is_claimed_once_and_a_cancelled_one_cannot_be_claimed()
    {
        await Store.EnqueueRunAsync(NewRun("run-1", status: RunStatus.Queued) with { StartedAt = null }, new RunRequestInfo(), None);
        await Store.EnqueueRunAsync(NewRun("run-2", status: RunStatus.Queued) with { StartedAt = null }, new RunRequestInfo(), None);

        Assert.True(await Store.ClaimQueuedRunAsync("run-1", "host|1|2", S0, None));
        Assert.False(await Store.ClaimQueuedRunAsync("run-1", "host|1|2", S0, None));
        Assert.True(await Store.CancelQueuedRunAsync("run-2", "cancelled by test", None));
        Assert.False(await Store.CancelQueuedRunAsync("run-2", "again", None));
        Assert.False(await Store.ClaimQueuedRunAsync("run-2", "host|1|2", S0, None));

        var claimed = (await Store.GetRunAsync("run-1", None))!;
        Assert.Equal((RunStatus.Running, S0), (claimed.Status, claimed.StartedAt));
        var cancelled = (await Store.GetRunAsync("run-2", None))!;
        Assert.Equal((RunStatus.Cancelled, "cancelled by test"), (cancelled.Status, cancelled.Error));
        Assert.Empty(await Store.GetQueuedRunsAsync(None));
        Assert.Contains(await Store.GetRunningRunsAsync(None), r => r.Run.Id == "run-1" && r.Owner == "host|1|2");
    }
}
