using Millrace.Engine;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

public sealed class WritePathCommitTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public async Task A_folder_path_gets_a_parquet_file_after_the_commit()
    {
        _project.Workflow("export", """
            name: export
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: out
                type: write
                input: customers
                path: exports/customers/dt=${run.date}/
            """);

        var run = await _project.RunAsync(new RunRequest("export", [new("run.date", "2024-05-06")]));

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(["lake/exports/customers/dt=2024-05-06/part-0.parquet"], _project.FilesUnder("lake/exports"));
        var rows = TestProject.Query($"SELECT count(*) FROM read_parquet('{_project.LakePath("exports/customers/dt=2024-05-06/part-0.parquet")}')");
        Assert.Equal((long)SampleData.Customers, rows[0][0]);
        Assert.Empty(_project.FilesUnder("lake/_staging"));
        Assert.Empty(await (await _project.StoreAsync()).GetUnpublishedFilesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_csv_file_path_gets_a_csv_file_with_a_header()
    {
        _project.Workflow("export", """
            name: export
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: north
                type: sql
                input: customers
                sql: SELECT customer_id, name FROM customers WHERE region = 'north' ORDER BY customer_id
              - id: out
                type: write
                input: north
                path: reports/north.csv
            """);

        var run = await _project.RunAsync("export");

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal("customer_id,name\n1,Ann\n3,Cid\n6,Fay\n", File.ReadAllText(_project.LakePath("reports/north.csv")).ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task A_rerun_replaces_the_file_at_the_same_path()
    {
        _project.Workflow("export", """
            name: export
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: out
                type: write
                input: customers
                path: reports/all.csv
            """);
        await _project.RunAsync("export");
        _project.LakeFile("raw/customers.csv", "customer_id,name,region,spend\n9,Zed,south,1.5\n");

        var run = await _project.RunAsync("export");

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal("customer_id,name,region,spend\n9,Zed,south,1.5\n", File.ReadAllText(_project.LakePath("reports/all.csv")).ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task A_failure_in_a_later_step_leaves_no_file_and_no_dataset_version()
    {
        _project.Workflow("export", """
            name: export
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: out
                type: write
                input: customers
                path: exports/customers/
              - id: saved
                type: write
                input: customers
                dataset: customers
              - id: broken
                type: sql
                inputs: [out, saved]
                sql: SELECT no_such_column FROM out
            """);

        var run = await _project.RunAsync("export");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal(RunStatus.Succeeded, (await _project.StepRunAsync(run.Id, "out")).Status);
        Assert.Equal(RunStatus.Succeeded, (await _project.StepRunAsync(run.Id, "saved")).Status);
        Assert.Equal(RunStatus.Failed, (await _project.StepRunAsync(run.Id, "broken")).Status);
        Assert.Empty(_project.FilesUnder("lake/exports"));
        Assert.Null(await _project.DatasetVersionAsync("customers"));
        Assert.Empty(_project.FilesUnder("lake/datasets"));
        Assert.Empty(_project.FilesUnder("lake/_staging"));
        Assert.Null((await (await _project.StoreAsync()).GetWorkflowRunsAsync(run.Id, CancellationToken.None)).Single().CommittedAt);
    }
}
