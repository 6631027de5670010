using Millrace.Engine;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

public sealed class SqlInjectionTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("wf", """
            name: wf
            parameters: { region: { type: string, default: all } }
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: selected
                type: sql
                input: customers
                sql: SELECT * FROM customers WHERE region = $region
              - id: save
                type: write
                input: selected
                dataset: selected_customers
            """);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public async Task A_parameter_selects_exactly_the_matching_rows()
    {
        var run = await _project.RunAsync(new RunRequest("wf", [new("region", "north")]));

        Assert.Equal(RunStatus.Succeeded, run.Status);
        var version = await _project.DatasetVersionAsync("selected_customers");
        Assert.Equal(SampleData.NorthCustomers, version!.Rows);
        var regions = await _project.QueryDatasetAsync("selected_customers", "SELECT DISTINCT region FROM {dataset}");
        Assert.Equal("north", Assert.Single(regions)[0]);
    }

    [Fact]
    public async Task A_value_written_as_SQL_cannot_inject_it_and_selects_nothing()
    {
        var run = await _project.RunAsync(new RunRequest("wf", [new("region", "x' OR 1=1 --")]));

        Assert.Equal(RunStatus.Succeeded, run.Status);
        var version = await _project.DatasetVersionAsync("selected_customers");
        Assert.NotNull(version);
        Assert.Equal(0, version.Rows);
        Assert.Equal(0, (await _project.StepRunAsync(run.Id, "selected")).Rows);
    }

    [Fact]
    public async Task A_value_that_closes_the_statement_cannot_run_a_second_one()
    {
        var run = await _project.RunAsync(new RunRequest("wf", [new("region", "north'; DROP TABLE customers; --")]));

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(0, (await _project.DatasetVersionAsync("selected_customers"))!.Rows);
        Assert.Equal(SampleData.Customers, (await _project.StepRunAsync(run.Id, "customers")).Rows);
    }
}
