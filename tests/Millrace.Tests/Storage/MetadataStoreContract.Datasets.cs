using Microsoft.Extensions.Time.Testing;
using Millrace.Storage;

namespace Millrace.Tests.Storage;

/// <summary>The datasets-and-commits part of the store contract: versions, conflicts, staged files, watermarks, anomalies.</summary>
public abstract partial class MetadataStoreContract
{
    // ---- dataset versions and commits ----

    [SkippableFact]
    public async Task Dataset_versions_are_found_latest_by_number_and_listed_newest_first()
    {
        await Store.CommitAsync(Commit("run-1", (NewVersion("customers", 1, "run-1"), null)), None);
        await Store.CommitAsync(Commit("run-2", (NewVersion("customers", 2, "run-2"), 1)), None);
        await Store.CommitAsync(Commit("run-3", (NewVersion("customers", 3, "run-3"), 2)), None);

        var latest = await Store.GetDatasetVersionAsync("customers", null, None);
        var second = await Store.GetDatasetVersionAsync("customers", 2, None);

        Assert.Equal((3, "run-3", 30L), (latest!.Version, latest.RunId, latest.Rows));
        Assert.Equal((2, "run-2", "ingest", "save", "overwrite"), (second!.Version, second.RunId, second.Workflow, second.StepId, second.Operation));
        Assert.Equal(["datasets/customers/part-run-2-2.parquet"], second.Files);
        Assert.Equal([new ColumnSchema("id", "BIGINT"), new ColumnSchema("name", "VARCHAR")], second.Schema);
        Assert.Equal([3, 2, 1], (await Store.ListDatasetVersionsAsync("customers", None)).Select(v => v.Version));
        Assert.Null(await Store.GetDatasetVersionAsync("customers", 4, None));
        Assert.Null(await Store.GetDatasetVersionAsync("orders", null, None));
        Assert.Empty(await Store.ListDatasetVersionsAsync("orders", None));
    }

    [SkippableFact]
    public async Task Listing_datasets_gives_each_with_its_latest_version()
    {
        await Store.CommitAsync(Commit("run-1", (NewVersion("orders", 1), null), (NewVersion("customers", 1), null)), None);
        await Store.CommitAsync(Commit("run-2", (NewVersion("customers", 2, "run-2"), 1)), None);

        var datasets = await Store.ListDatasetsAsync(None);

        Assert.Equal([("customers", 2), ("orders", 1)], datasets.Select(d => (d.Dataset, d.Version)));
    }

    [SkippableFact]
    public async Task A_commit_based_on_a_stale_version_conflicts_and_commits_nothing()
    {
        await Store.CommitAsync(Commit("run-1", (NewVersion("customers", 1), null)), None);
        await Store.CommitAsync(Commit("run-2", (NewVersion("customers", 2, "run-2"), 1)), None);
        var stale = new WorkflowCommit("run-3", "ingest", [(NewVersion("orders", 1, "run-3"), null), (NewVersion("customers", 2, "run-3"), 1)],
            [new StagedFile("_staging/run-3/ingest/out/part-0.parquet", "exports/out/part-0.parquet")])
        {
            Watermarks = [new WatermarkFile("ingest", "load", "raw/a.csv", 10, T0, "run-3")],
        };

        var error = await Assert.ThrowsAsync<CommitConflictException>(() => Store.CommitAsync(stale, None));

        Assert.Contains("customers", error.Message);
        Assert.StartsWith(CommitConflictException.Marker, error.Message);
        // The whole commit is rolled back, including the parts that did not conflict.
        Assert.Null(await Store.GetDatasetVersionAsync("orders", null, None));
        Assert.Equal("run-2", (await Store.GetDatasetVersionAsync("customers", 2, None))!.RunId);
        Assert.Empty(await Store.GetUnpublishedFilesAsync(None));
        Assert.Empty(await Store.GetWatermarkAsync("ingest", "load", None));
    }

    [SkippableFact]
    public async Task Creating_a_dataset_that_another_run_created_meanwhile_conflicts()
    {
        await Store.CommitAsync(Commit("run-1", (NewVersion("customers", 1, "run-1"), null)), None);

        await Assert.ThrowsAsync<CommitConflictException>(() => Store.CommitAsync(Commit("run-2", (NewVersion("customers", 1, "run-2"), null)), None));

        Assert.Equal("run-1", (await Store.GetDatasetVersionAsync("customers", null, None))!.RunId);
    }

    [SkippableFact]
    public async Task Referenced_dataset_files_are_those_of_every_committed_version()
    {
        await Store.CommitAsync(Commit("run-1", (NewVersion("customers", 1, "run-1", "datasets/customers/a.parquet", "datasets/customers/b.parquet"), null)), None);
        await Store.CommitAsync(Commit("run-2", (NewVersion("customers", 2, "run-2", "datasets/customers/b.parquet", "datasets/customers/c.parquet"), 1)), None);

        var referenced = await Store.GetReferencedDatasetFilesAsync(None);

        Assert.Equal(["datasets/customers/a.parquet", "datasets/customers/b.parquet", "datasets/customers/c.parquet"], referenced.Order(StringComparer.Ordinal));
    }

    // ---- staged files ----

    [SkippableFact]
    public async Task Staged_files_of_a_commit_are_unpublished_until_marked()
    {
        var files = new[] { new StagedFile("_staging/run-1/w/out/part-0.parquet", "exports/part-0.parquet"), new StagedFile("_staging/run-1/w/rep/r.csv", "reports/r.csv") };
        await Store.CommitAsync(new WorkflowCommit("run-1", "w", [], files), None);

        Assert.Equal(files.Select(f => ("run-1", f)), await Store.GetUnpublishedFilesAsync(None));

        await Store.MarkPublishedAsync("run-1", files[0].StagingPath, None);

        Assert.Equal([("run-1", files[1])], await Store.GetUnpublishedFilesAsync(None));
        await Store.MarkPublishedAsync("run-1", files[1].StagingPath, None);
        Assert.Empty(await Store.GetUnpublishedFilesAsync(None));
    }

    [SkippableFact]
    public async Task An_older_commits_unpublished_file_is_superseded_by_a_later_commit_to_the_same_path()
    {
        foreach (var run in new[] { "run-2", "run-1" })
        {
            await Store.CreateRunAsync(NewRun(run), None);
            await Store.SaveWorkflowRunAsync(new WorkflowRun { RunId = run, Workflow = "w", Position = 0, Status = RunStatus.Running }, None);
        }
        // run-2 commits first, run-1 after it (run ids do not tell commit order): run-1's export is the newer one.
        var older = new StagedFile("_staging/run-2/w/out/x.csv", "exports/x.csv");
        var newer = new StagedFile("_staging/run-1/w/out/x.csv", "exports/x.csv");
        var other = new StagedFile("_staging/run-2/w/out/y.csv", "exports/y.csv");
        // The store stamps commits with its database's clock: a fake one, a second later for the later commit.
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Store.Database.Clock = clock;
        await Store.CommitAsync(new WorkflowCommit("run-2", "w", [], [older, other]), None);
        clock.Advance(TimeSpan.FromSeconds(1));
        await Store.CommitAsync(new WorkflowCommit("run-1", "w", [], [newer]), None);

        Assert.Equal([("run-2", older), ("run-2", other), ("run-1", newer)], await Store.GetUnpublishedFilesAsync(None));
        Assert.Equal(1, await Store.MarkSupersededFilesAsync(None));

        Assert.Equal([("run-2", other), ("run-1", newer)], await Store.GetUnpublishedFilesAsync(None));
        Assert.Equal(0, await Store.MarkSupersededFilesAsync(None));
    }

    // ---- watermarks and anomalies ----

    [SkippableFact]
    public async Task Watermark_files_become_visible_with_their_commit_and_are_per_step()
    {
        var taken = new WatermarkFile("ingest", "load", "raw/events/dt=2024-01-01/a.csv", 123, T0, "run-1");
        await Store.CommitAsync(new WorkflowCommit("run-1", "ingest", [], []) { Watermarks = [taken] }, None);

        var watermark = await Store.GetWatermarkAsync("ingest", "load", None);

        Assert.Equal(taken, Assert.Single(watermark).Value);
        Assert.Equal(taken.Path, watermark.Keys.Single());
        Assert.Empty(await Store.GetWatermarkAsync("ingest", "other_step", None));
        Assert.Empty(await Store.GetWatermarkAsync("other_workflow", "load", None));
    }

    [SkippableFact]
    public async Task Anomalies_are_recorded_and_found_by_run()
    {
        await Store.CreateRunAsync(NewRun("run-1"), None);
        var anomaly = new Anomaly
        {
            Id = "a-1", RunId = "run-1", Workflow = "ingest", StepId = "load", Kind = "rewritten_file", Severity = AnomalySeverity.Warning,
            Policy = "reprocess", Message = "raw/a.csv changed", DetailsJson = """{"file":"raw/a.csv"}""", CreatedAt = T0,
        };
        await Store.AddAnomalyAsync(anomaly, None);
        await Store.AddAnomalyAsync(anomaly with { Id = "a-2", RunId = "run-2" }, None);

        var found = await Store.FindAnomaliesAsync("run-1", new Page(), None);

        Assert.Equal(anomaly, Assert.Single(found));
        Assert.Equal(2, (await Store.FindAnomaliesAsync(null, new Page(), None)).Count);
    }
}
