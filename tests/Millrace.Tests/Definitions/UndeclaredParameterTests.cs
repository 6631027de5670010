using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Definitions;

public sealed class UndeclaredParameterTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public void A_bare_reference_to_an_undeclared_parameter_is_reported_with_a_suggestion()
    {
        _project.Workflow("score", """
            name: score
            parameters: { region: north }
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: active
                type: sql
                input: customers
                sql: SELECT * FROM customers WHERE region = $regoin
            """);

        var error = DefinitionAssert.Single(_project.Check(), "undeclared parameter '$regoin'");

        Assert.Equal("active", error.StepId);
        Assert.Equal(10, error.Location.Line);
        Assert.Contains("did you mean 'region'?", error.Message);
    }

    [Fact]
    public void A_braced_reference_in_a_path_is_checked_too()
    {
        _project.Workflow("ingest", """
            name: ingest
            steps:
              - id: events
                type: read
                path: raw/events/dt=${day}/*.csv
            """);

        var error = DefinitionAssert.Single(_project.Check(), "undeclared parameter '$day'");

        Assert.Equal(("events", 5)!, (error.StepId, error.Location.Line));
    }

    [Fact]
    public void Declared_built_in_pipeline_and_env_references_are_accepted_and_double_dollar_is_not_a_reference()
    {
        _project.Workflow("score", """
            name: score
            steps:
              - id: events
                type: read
                path: raw/events/dt=${run.date}/${region}.csv
              - id: priced
                type: sql
                input: events
                sql: SELECT *, '$$price' AS label, '${env:HOME}' AS home, $run.id AS run FROM events
            """).Pipeline("nightly", """
            name: nightly
            workflows: [score]
            parameters: { region: { type: string, default: north } }
            """);

        DefinitionAssert.None(_project.Check());
    }
}
