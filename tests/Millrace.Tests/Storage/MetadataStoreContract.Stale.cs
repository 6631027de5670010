using Microsoft.Extensions.Time.Testing;
using Millrace.Storage;

namespace Millrace.Tests.Storage;

/// <summary>The stale-mark and workflow-fingerprint part of the store contract (<see cref="IStaleStore"/>, <see cref="IMemoStore"/>).</summary>
public abstract partial class MetadataStoreContract
{
    static readonly DateOnly StaleDay1 = new(2024, 1, 5);
    static readonly DateOnly StaleDay2 = new(2024, 1, 6);

    FakeTimeProvider UseFakeStoreClock()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Store.Database.Clock = clock;
        return clock;
    }

    async Task CreateDatedRunsAsync()
    {
        await Store.CreateRunAsync(NewRun("ok-1", runDate: StaleDay1, status: RunStatus.Succeeded), None);
        await Store.CreateRunAsync(NewRun("failed-1", runDate: StaleDay1, status: RunStatus.Failed), None);
        await Store.CreateRunAsync(NewRun("ok-other-day", runDate: StaleDay2, status: RunStatus.Succeeded), None);
        await Store.CreateRunAsync(NewRun("ok-other-pipeline", target: "weekly", runDate: StaleDay1, status: RunStatus.Succeeded), None);
        await Store.CreateRunAsync(NewRun("ok-other-project", projectId: "elsewhere", runDate: StaleDay1, status: RunStatus.Succeeded), None);
    }

    [SkippableFact]
    public async Task Marking_a_date_stale_marks_its_succeeded_runs_of_that_pipeline_only()
    {
        var clock = UseFakeStoreClock();
        await CreateDatedRunsAsync();

        var marks = await Store.MarkStaleAsync("shop", "nightly", StaleDay1, "late file raw/a.csv", None);

        var mark = Assert.Single(marks);
        Assert.Equal(("ok-1", "nightly", StaleDay1, "late file raw/a.csv", clock.GetUtcNow(), true), (mark.RunId, mark.Pipeline, mark.RunDate, mark.Reason, mark.MarkedAt, mark.Open));
        Assert.Equal([mark], await Store.ListStaleAsync("shop", null, null, null, None));
        Assert.Equal(["ok-1"], (await Store.GetOpenStaleMarksAsync(["ok-1", "failed-1", "ok-other-day", "nope"], None)).Keys);
        Assert.Empty(await Store.ListStaleAsync("shop", "nightly", StaleDay2, null, None));
        Assert.Empty(await Store.ListStaleAsync("elsewhere", null, null, null, None));
    }

    [SkippableFact]
    public async Task A_date_already_marked_is_not_marked_twice_even_by_concurrent_callers()
    {
        UseFakeStoreClock();
        await CreateDatedRunsAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Store.MarkStaleAsync("shop", "nightly", StaleDay1, $"late file {i}", None)));

        Assert.Single(answers.SelectMany(a => a));
        Assert.Single(await Store.ListStaleAsync("shop", "nightly", StaleDay1, StaleDay1, None));
    }

    [SkippableFact]
    public async Task A_later_success_clears_the_marks_made_before_it_started_and_keeps_later_ones()
    {
        var clock = UseFakeStoreClock();
        await CreateDatedRunsAsync();
        await Store.MarkStaleAsync("shop", "nightly", StaleDay1, "late file raw/a.csv", None);
        clock.Advance(TimeSpan.FromMinutes(1));
        var rerunStarted = clock.GetUtcNow();
        await Store.CreateRunAsync(NewRun("rerun-1", runDate: StaleDay1, status: RunStatus.Succeeded), None);
        clock.Advance(TimeSpan.FromMinutes(1));
        // A second late file while the rerun ran: it marks what is still unmarked (the rerun itself, now succeeded).
        var during = await Store.MarkStaleAsync("shop", "nightly", StaleDay1, "late file raw/b.csv", None);
        clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(1, await Store.ClearStaleAsync("shop", "nightly", StaleDay1, "rerun-1", rerunStarted, None));

        var marks = await Store.ListStaleAsync("shop", "nightly", StaleDay1, StaleDay1, None);
        var cleared = marks.Single(m => m.RunId == "ok-1");
        Assert.Equal(("rerun-1", clock.GetUtcNow(), false), (cleared.ClearedByRunId, cleared.ClearedAt, cleared.Open));
        // A run never clears its own mark.
        Assert.Equal(during.Single().Id, marks.Single(m => m.Open).Id);
        Assert.Equal("rerun-1", marks.Single(m => m.Open).RunId);
        // A run whose mark was cleared is history: marking the date again does not mark it again.
        Assert.Empty(await Store.MarkStaleAsync("shop", "nightly", StaleDay1, "again", None));
    }

    [SkippableFact]
    public async Task The_versions_a_marked_run_committed_are_stale_until_cleared()
    {
        UseFakeStoreClock();
        await Store.CreateRunAsync(NewRun("ok-1", runDate: StaleDay1), None);
        await Store.CommitAsync(Commit("ok-1", (NewVersion("customers", 1, "ok-1"), null)), None);
        await Store.FinishRunAsync(NewRun("ok-1", runDate: StaleDay1, status: RunStatus.Succeeded), None);
        await Store.CreateRunAsync(NewRun("ok-2", runDate: StaleDay2), None);
        await Store.CommitAsync(Commit("ok-2", (NewVersion("customers", 2, "ok-2"), 1)), None);

        await Store.MarkStaleAsync("shop", "nightly", StaleDay1, "corrected file raw/a.csv", None);

        var stale = await Store.GetStaleDatasetVersionsAsync("customers", None);
        Assert.Equal([1], stale.Keys);
        Assert.Equal("corrected file raw/a.csv", stale[1].Reason);
        Assert.Empty(await Store.GetStaleDatasetVersionsAsync("orders", None));
    }

    [SkippableFact]
    public async Task The_latest_fingerprint_of_a_workflow_is_the_last_recorded_in_the_project()
    {
        await Store.CreateRunAsync(NewRun("run-1"), None);
        await Store.CreateRunAsync(NewRun("run-2"), None);
        await Store.CreateRunAsync(NewRun("run-x", projectId: "elsewhere"), None);
        await Store.SaveFingerprintAsync(new WorkflowFingerprint("run-1", "ingest", "aaa", "{\"a\":1}", null, T0), None);
        await Store.SaveFingerprintAsync(new WorkflowFingerprint("run-2", "ingest", "aaa", "{\"a\":1}", "run-1", T0.AddMinutes(1)), None);
        await Store.SaveFingerprintAsync(new WorkflowFingerprint("run-2", "score", "bbb", "{}", null, T0.AddMinutes(1)), None);
        await Store.SaveFingerprintAsync(new WorkflowFingerprint("run-x", "ingest", "zzz", "{}", null, T0.AddMinutes(5)), None);

        Assert.Equal(new WorkflowFingerprint("run-2", "ingest", "aaa", "{\"a\":1}", "run-1", T0.AddMinutes(1)), await Store.GetLatestFingerprintAsync("shop", "ingest", None));
        Assert.Null(await Store.GetLatestFingerprintAsync("shop", "train", None));
        Assert.Equal(["ingest", "score"], (await Store.GetFingerprintsAsync("run-2", None)).Select(f => f.Workflow));
        // Saving again replaces.
        await Store.SaveFingerprintAsync(new WorkflowFingerprint("run-2", "ingest", "ccc", "{}", null, T0.AddMinutes(2)), None);
        Assert.Equal("ccc", (await Store.GetLatestFingerprintAsync("shop", "ingest", None))!.Fingerprint);
    }
}
