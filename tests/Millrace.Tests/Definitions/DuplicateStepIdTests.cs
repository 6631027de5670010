using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Definitions;

public sealed class DuplicateStepIdTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public void A_second_step_with_the_same_id_is_reported_where_it_is_and_names_the_first()
    {
        _project.Workflow("ingest", """
            name: ingest
            steps:
              - id: load
                type: read
                path: raw/a.csv
              - id: load
                type: read
                path: raw/b.csv
            """);

        var error = DefinitionAssert.Single(_project.Check(), "duplicate step id 'load'");

        Assert.Equal("load", error.StepId);
        Assert.Equal(6, error.Location.Line);
        Assert.Contains("first at line 3", error.Message);
    }

    [Fact]
    public void The_same_step_id_in_two_workflows_is_allowed()
    {
        _project.LakeFile("raw/a.csv", "x\n1\n");
        foreach (var name in new[] { "one", "two" })
            _project.Workflow(name, $"""
                name: {name}
                steps:
                  - id: load
                    type: read
                    path: raw/a.csv
                """);

        DefinitionAssert.None(_project.Check());
    }
}
