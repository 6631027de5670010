using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Definitions;

public sealed class UnknownStepKindTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public void Unknown_kind_names_file_line_column_and_step_and_suggests_a_close_name()
    {
        _project.Workflow("ingest", """
            name: ingest
            steps:
              - id: load_events
                type: raed
                path: raw/*.csv
            """);

        var error = DefinitionAssert.Single(_project.Check(), "unknown step kind 'raed'");

        Assert.Equal("load_events", error.StepId);
        Assert.Equal(("workflows/ingest.yaml", 4, 11), (error.Location.File, error.Location.Line, error.Location.Column));
        Assert.Contains("did you mean 'read'?", error.Message);
        Assert.StartsWith("workflows/ingest.yaml:4:11: step 'load_events': ", error.ToString());
    }

    [Fact]
    public void A_kind_far_from_every_known_kind_gets_no_suggestion_but_the_known_list()
    {
        _project.Workflow("ingest", """
            name: ingest
            steps:
              - id: a
                type: teleport
            """);

        var error = DefinitionAssert.Single(_project.Check(), "unknown step kind 'teleport'");

        Assert.DoesNotContain("did you mean", error.Message);
        var known = error.Message[error.Message.IndexOf("(known: ", StringComparison.Ordinal)..];
        Assert.All(new[] { "read", "sql", "write" }, kind => Assert.Contains(kind, known));
    }
}
