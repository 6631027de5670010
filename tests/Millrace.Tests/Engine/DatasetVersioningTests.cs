using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Engine;

public sealed class DatasetVersioningTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.Workflow("ingest", """
            name: ingest
            steps:
              - id: raw
                type: read
                path: raw/customers.csv
              - id: save
                type: write
                input: raw
                dataset: customers
            """).Workflow("report", """
            name: report
            steps:
              - id: old
                type: sql
                inputs: [customers@v1]
                sql: SELECT count(*) AS n, max(name) AS last_name FROM customers
              - id: latest
                type: sql
                inputs: [customers]
                sql: SELECT count(*) AS n, max(name) AS last_name FROM customers
              - id: save_old
                type: write
                input: old
                dataset: report_v1
              - id: save_latest
                type: write
                input: latest
                dataset: report_latest
            """);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    async Task IngestAsync(string csv)
    {
        _project.LakeFile("raw/customers.csv", csv);
        var run = await _project.RunAsync("ingest");
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
    }

    [Fact]
    public async Task Each_successful_write_adds_the_next_version()
    {
        await IngestAsync("id,name\n1,Ann\n");
        await IngestAsync("id,name\n1,Ann\n2,Bob\n");
        await IngestAsync("id,name\n1,Ann\n2,Bob\n3,Cid\n");

        var versions = await (await _project.StoreAsync()).ListDatasetVersionsAsync("customers", CancellationToken.None);

        Assert.Equal([3, 2, 1], versions.Select(v => v.Version));
        Assert.Equal([3L, 2L, 1L], versions.Select(v => v.Rows));
        Assert.All(versions, v => Assert.All(v.Files, f => Assert.True(File.Exists(_project.LakePath(f)), f)));
    }

    [Fact]
    public async Task A_versioned_input_reads_that_version_and_a_plain_name_the_latest()
    {
        await IngestAsync("id,name\n1,Ann\n");
        await IngestAsync("id,name\n1,Ann\n2,Bob\n3,Cid\n");

        var run = await _project.RunAsync("report");

        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        Assert.Equal([1L, "Ann"], (await _project.QueryDatasetAsync("report_v1", "SELECT n, last_name FROM {dataset}")).Single());
        Assert.Equal([3L, "Cid"], (await _project.QueryDatasetAsync("report_latest", "SELECT n, last_name FROM {dataset}")).Single());
    }

    [Fact]
    public async Task A_version_that_does_not_exist_fails_the_run_with_a_clear_error()
    {
        _project.Workflow("report", """
            name: report
            steps:
              - id: old
                type: sql
                inputs: [customers@v7]
                sql: SELECT * FROM customers
            """);
        await IngestAsync("id,name\n1,Ann\n");

        var run = await _project.RunAsync("report");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("dataset 'customers' has no version v7", run.Error);
    }

    [Fact]
    public async Task Reading_a_dataset_that_was_never_committed_fails_with_what_to_do()
    {
        var run = await _project.RunAsync("report");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("dataset 'customers' has no", run.Error);
    }
}
