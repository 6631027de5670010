using Millrace.Engine;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Engine;

public sealed class CommitVisibilityTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("publish", """
            name: publish
            max_parallel: 1
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: save
                type: write
                input: customers
                dataset: customers
              - id: export
                type: write
                input: save
                path: exports/customers.csv
              - id: after
                type: sql
                input: export
                sql: SELECT count(*) AS n FROM export
            """);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public async Task Written_dataset_versions_and_files_are_invisible_until_the_run_commits()
    {
        var store = await _project.StoreAsync();
        DatasetVersion? versionSeenMidRun = null;
        bool? fileSeenMidRun = null;
        var observer = new RecordingObserver
        {
            OnStepFinished = step =>
            {
                if (step.StepId != "after") return;
                // The store is SQLite: these calls complete synchronously.
                versionSeenMidRun = store.GetDatasetVersionAsync("customers", null, CancellationToken.None).GetAwaiter().GetResult();
                fileSeenMidRun = File.Exists(_project.LakePath("exports/customers.csv"));
            },
        };

        var run = await _project.RunAsync(new RunRequest("publish", []), observer);

        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        Assert.Null(versionSeenMidRun);
        Assert.False(fileSeenMidRun);
        Assert.Equal(SampleData.Customers, (await _project.DatasetVersionAsync("customers"))!.Rows);
        Assert.True(File.Exists(_project.LakePath("exports/customers.csv")));
    }

    [Fact]
    public async Task A_failure_after_the_writes_leaves_neither_the_version_nor_the_file()
    {
        _project.File("workflows/publish.yaml", File.ReadAllText(Path.Combine(_project.Directory, "workflows/publish.yaml"))
            .Replace("SELECT count(*) AS n FROM export", "SELECT missing_column FROM export", StringComparison.Ordinal));

        var run = await _project.RunAsync("publish");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal(RunStatus.Succeeded, (await _project.StepRunAsync(run.Id, "save")).Status);
        Assert.Equal(RunStatus.Succeeded, (await _project.StepRunAsync(run.Id, "export")).Status);
        Assert.Null(await _project.DatasetVersionAsync("customers"));
        Assert.False(File.Exists(_project.LakePath("exports/customers.csv")));
        Assert.Empty(_project.FilesUnder("lake/datasets"));
        Assert.Empty(_project.FilesUnder("lake/_staging"));
    }

    [Fact]
    public async Task A_failed_rerun_keeps_the_previous_version_and_file_as_they_were()
    {
        var good = await _project.RunAsync("publish");
        Assert.Equal(RunStatus.Succeeded, good.Status);
        var exported = File.ReadAllText(_project.LakePath("exports/customers.csv"));
        var datasetFiles = _project.FilesUnder("lake/datasets");
        _project.LakeFile("raw/customers.csv", "customer_id,name,region,spend\n9,Zed,south,1.5\n");
        _project.File("workflows/publish.yaml", File.ReadAllText(Path.Combine(_project.Directory, "workflows/publish.yaml"))
            .Replace("SELECT count(*) AS n FROM export", "SELECT missing_column FROM export", StringComparison.Ordinal));

        var bad = await _project.RunAsync("publish");

        Assert.Equal(RunStatus.Failed, bad.Status);
        var latest = await _project.DatasetVersionAsync("customers");
        Assert.Equal((1, good.Id), (latest!.Version, latest.RunId));
        Assert.Equal(exported, File.ReadAllText(_project.LakePath("exports/customers.csv")));
        Assert.Equal(datasetFiles, _project.FilesUnder("lake/datasets"));
    }
}
