using Millrace.Storage;

namespace Millrace.Tests.Storage;

/// <summary>The cluster's part of the store contract: heartbeats, cluster-wide claims, takeover of a dead node's runs, commit fencing.</summary>
public abstract partial class MetadataStoreContract
{
    static readonly DateTimeOffset C0 = new(2024, 4, 1, 9, 0, 0, TimeSpan.Zero);

    [SkippableFact]
    public async Task Heartbeats_upsert_one_row_per_node_and_keep_its_start_time()
    {
        await Store.HeartbeatAsync("node-a", C0, C0, None);
        await Store.HeartbeatAsync("node-b", C0.AddSeconds(1), C0.AddSeconds(1), None);
        await Store.HeartbeatAsync("node-a", C0.AddMinutes(9), C0.AddSeconds(5), None);

        Assert.Equal([new ClusterNode("node-a", C0, C0.AddSeconds(5)), new ClusterNode("node-b", C0.AddSeconds(1), C0.AddSeconds(1))],
            await Store.GetClusterNodesAsync(None));

        await Store.RemoveClusterNodeAsync("node-a", None);
        Assert.Equal(["node-b"], (await Store.GetClusterNodesAsync(None)).Select(n => n.Node));
    }

    [SkippableFact]
    public async Task A_claim_with_a_limit_counts_running_runs_of_the_same_target_on_every_node()
    {
        await Store.CreateRunAsync(NewRun("running-elsewhere", target: "nightly"), None);
        await Store.SetRunOwnerAsync("running-elsewhere", "node-b", None);
        await Store.EnqueueRunAsync(NewRun("next", target: "nightly", status: RunStatus.Queued) with { StartedAt = null }, new RunRequestInfo(), None);
        await Store.EnqueueRunAsync(NewRun("other", target: "hourly", status: RunStatus.Queued) with { StartedAt = null }, new RunRequestInfo(), None);
        await Store.EnqueueRunAsync(NewRun("elsewhere", target: "nightly", status: RunStatus.Queued, projectId: "other-project") with { StartedAt = null }, new RunRequestInfo(), None);

        Assert.Equal(ClaimResult.Busy, await Store.ClaimQueuedRunAsync("next", "node-a", C0, 1, None));
        Assert.Equal(RunStatus.Queued, (await Store.GetRunAsync("next", None))!.Status);
        Assert.Equal(ClaimResult.Claimed, await Store.ClaimQueuedRunAsync("next", "node-a", C0, 2, None));
        Assert.Equal(ClaimResult.NotQueued, await Store.ClaimQueuedRunAsync("next", "node-b", C0, 2, None));
        Assert.Equal(ClaimResult.Claimed, await Store.ClaimQueuedRunAsync("other", "node-a", C0, 1, None));
        Assert.Equal(ClaimResult.Claimed, await Store.ClaimQueuedRunAsync("elsewhere", "node-a", C0, 1, None));
    }

    [SkippableFact]
    public async Task Taking_over_a_dead_nodes_run_fails_it_and_queues_its_resumption_once()
    {
        await Store.CreateRunAsync(NewRun("orphan"), None);
        await Store.SetRunOwnerAsync("orphan", "node-dead", None);
        await Store.SaveWorkflowRunAsync(new WorkflowRun { RunId = "orphan", Workflow = "ingest", Position = 0, Status = RunStatus.Succeeded, CommittedAt = C0 }, None);
        await Store.SaveWorkflowRunAsync(new WorkflowRun { RunId = "orphan", Workflow = "score", Position = 1, Status = RunStatus.Running }, None);
        await Store.SaveStepRunAsync(new StepRun { RunId = "orphan", Workflow = "score", StepId = "s1", Kind = "sql", Status = RunStatus.Running, StartedAt = C0 }, None);
        var resume = new QueuedRun(NewRun("resume", status: RunStatus.Queued) with { StartedAt = null, ParentRunId = "orphan", Trigger = TriggerKind.Retry },
            new RunRequestInfo(2, null, "node-b"));

        Assert.False(await Store.TakeOverRunAsync("orphan", "node-alive", "wrong owner", C0, resume, None));
        Assert.True(await Store.TakeOverRunAsync("orphan", "node-dead", "interrupted: node-dead stopped", C0.AddSeconds(30), resume, None));
        // A second node that saw the same dead node loses the race and writes nothing.
        var second = resume with { Run = resume.Run with { Id = "resume-2" } };
        Assert.False(await Store.TakeOverRunAsync("orphan", "node-dead", "again", C0.AddSeconds(31), second, None));

        var orphan = (await Store.GetRunAsync("orphan", None))!;
        Assert.Equal((RunStatus.Failed, "interrupted: node-dead stopped", C0.AddSeconds(30)), (orphan.Status, orphan.Error, orphan.EndedAt));
        Assert.Equal(RunStatus.Failed, (await Store.GetStepRunsAsync("orphan", None)).Single().Status);
        Assert.Equal([RunStatus.Succeeded, RunStatus.Failed], (await Store.GetWorkflowRunsAsync("orphan", None)).Select(w => w.Status));
        Assert.Contains(await Store.GetLogsAsync("orphan", None), l => l.Message == "interrupted: node-dead stopped");
        var queued = Assert.Single(await Store.GetQueuedRunsAsync(None));
        Assert.Equal(("resume", "orphan", 2), (queued.Run.Id, queued.Run.ParentRunId, queued.Request.Attempt));
        Assert.Null(await Store.GetRunAsync("resume-2", None));
    }

    [SkippableFact]
    public async Task A_run_taken_over_by_another_node_cannot_commit()
    {
        await Store.CreateRunAsync(NewRun("zombie"), None);
        await Store.SetRunOwnerAsync("zombie", "node-slow", None);
        await Store.SaveWorkflowRunAsync(new WorkflowRun { RunId = "zombie", Workflow = "ingest", Position = 0, Status = RunStatus.Running }, None);
        Assert.True(await Store.TakeOverRunAsync("zombie", "node-slow", "interrupted", C0, null, None));

        var commit = new WorkflowCommit("zombie", "ingest", [(NewVersion("events", 1, "zombie", "datasets/events/v1/part-0.parquet"), null)], []);
        var e = await Assert.ThrowsAsync<CommitConflictException>(() => Store.CommitAsync(commit, None));

        Assert.Contains("no longer running", e.Message, StringComparison.Ordinal);
        Assert.Null(await Store.GetDatasetVersionAsync("events", null, None));
    }

    [SkippableFact]
    public async Task A_dead_nodes_row_goes_only_while_its_heartbeat_is_unchanged_and_it_owns_no_running_run()
    {
        await Store.HeartbeatAsync("node-dead", C0, C0, None);
        await Store.CreateRunAsync(NewRun("orphan"), None);
        await Store.SetRunOwnerAsync("orphan", "node-dead", None);

        Assert.False(await Store.RemoveDeadNodeAsync("node-dead", C0, None));
        Assert.True(await Store.TakeOverRunAsync("orphan", "node-dead", "interrupted", C0.AddSeconds(40), null, None));
        await Store.HeartbeatAsync("node-dead", C0, C0.AddSeconds(41), None);      // it was only slow: it beat again
        Assert.False(await Store.RemoveDeadNodeAsync("node-dead", C0, None));
        Assert.True(await Store.RemoveDeadNodeAsync("node-dead", C0.AddSeconds(41), None));
        Assert.Empty(await Store.GetClusterNodesAsync(None));
    }

    [SkippableFact]
    public async Task A_run_records_its_end_only_while_it_is_still_running()
    {
        await Store.CreateRunAsync(NewRun("mine"), None);
        await Store.CreateRunAsync(NewRun("taken"), None);
        await Store.SetRunOwnerAsync("taken", "node-slow", None);
        Assert.True(await Store.TakeOverRunAsync("taken", "node-slow", "interrupted: taken over", C0, null, None));

        Assert.True(await Store.FinishRunAsync(NewRun("mine") with { Status = RunStatus.Succeeded, EndedAt = C0.AddSeconds(5) }, None));
        Assert.False(await Store.FinishRunAsync(NewRun("taken") with { Status = RunStatus.Failed, EndedAt = C0.AddSeconds(6), Error = "commit conflict" }, None));

        Assert.Equal((RunStatus.Succeeded, C0.AddSeconds(5)), ((await Store.GetRunAsync("mine", None))!.Status, (await Store.GetRunAsync("mine", None))!.EndedAt));
        var taken = (await Store.GetRunAsync("taken", None))!;
        Assert.Equal((RunStatus.Failed, "interrupted: taken over"), (taken.Status, taken.Error));
    }
}
