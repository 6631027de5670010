using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Definitions;

public sealed class PipelineWorkflowReferenceTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public void A_pipeline_naming_an_unknown_workflow_is_reported_at_that_name_with_a_suggestion()
    {
        _project.Workflow("ingest", """
            name: ingest
            steps:
              - id: a
                type: read
                path: raw/a.csv
            """).Pipeline("nightly", """
            name: nightly
            workflows:
              - ingest
              - ingets
            """);

        var error = DefinitionAssert.Single(_project.Check(), "names workflow 'ingets', which does not exist");

        Assert.Equal(("pipelines/nightly.yaml", 4, 5), (error.Location.File, error.Location.Line, error.Location.Column));
        Assert.Contains("did you mean 'ingest'?", error.Message);
    }

    [Fact]
    public void A_pipeline_without_workflows_is_reported()
    {
        _project.Pipeline("empty", "name: empty\n");

        DefinitionAssert.Single(_project.Check(), "needs 'workflows:");
    }
}
