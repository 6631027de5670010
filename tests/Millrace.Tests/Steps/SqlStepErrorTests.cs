using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

public sealed class SqlStepErrorTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public async Task A_missing_column_fails_the_run_with_the_SQL_error()
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("wf", """
            name: wf
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: totals
                type: sql
                input: customers
                sql: SELECT regoin, sum(spend) FROM customers GROUP BY 1
              - id: save
                type: write
                input: totals
                dataset: totals
            """);

        var run = await _project.RunAsync("wf");

        Assert.Equal(RunStatus.Failed, run.Status);
        var totals = await _project.StepRunAsync(run.Id, "totals");
        Assert.Equal(RunStatus.Failed, totals.Status);
        Assert.StartsWith("SQL failed:", totals.Error);
        Assert.Contains("regoin", totals.Error);
        Assert.Contains("step 'totals'", run.Error);
        Assert.Equal(RunStatus.Skipped, (await _project.StepRunAsync(run.Id, "save")).Status);
        Assert.Null(await _project.DatasetVersionAsync("totals"));
    }

    [Fact]
    public async Task The_error_is_logged_with_the_step()
    {
        _project.Workflow("wf", """
            name: wf
            steps:
              - id: broken
                type: sql
                sql: SELEC 1
            """);

        var run = await _project.RunAsync("wf");

        var logs = await (await _project.StoreAsync()).GetLogsAsync(run.Id, CancellationToken.None);
        var error = Assert.Single(logs, l => l.StepId == "broken");
        Assert.Equal("error", error.Level);
        Assert.Contains("SQL failed", error.Message);
    }
}
