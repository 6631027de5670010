using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Definitions;

public sealed class MissingInputTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public void An_input_that_is_neither_a_step_nor_a_dataset_is_reported_at_the_input()
    {
        _project.Workflow("prepare", """
            name: prepare
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: active
                type: sql
                input: custmers
                sql: SELECT * FROM custmers
            """);

        var error = DefinitionAssert.Single(_project.Check(), "unknown input 'custmers'");

        Assert.Equal("active", error.StepId);
        Assert.Equal((8, 12), (error.Location.Line, error.Location.Column));
        Assert.Contains("did you mean 'customers'?", error.Message);
    }

    [Fact]
    public void A_dataset_written_by_another_workflow_is_a_valid_input()
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
              - id: north
                type: sql
                inputs: [customers@v2]
                sql: SELECT * FROM customers WHERE region = 'north'
            """);

        DefinitionAssert.None(_project.Check());
    }

    [Fact]
    public void A_malformed_version_reference_is_reported()
    {
        _project.Workflow("report", """
            name: report
            steps:
              - id: north
                type: sql
                inputs: [customers@latest]
                sql: SELECT 1
            """);

        var error = DefinitionAssert.Single(_project.Check(), "'customers@latest' is not a step id or dataset reference");

        Assert.Equal("north", error.StepId);
    }
}
