using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Definitions;

public sealed class UnknownFieldTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public void A_misspelled_step_option_is_reported_at_its_key()
    {
        _project.Workflow("ingest", """
            name: ingest
            steps:
              - id: a
                type: read
                path: raw/a.csv
                fromat: csv
            """);

        var error = DefinitionAssert.Single(_project.Check(), "unknown field 'fromat'");

        Assert.Equal("a", error.StepId);
        Assert.Equal(("workflows/ingest.yaml", 6, 5), (error.Location.File, error.Location.Line, error.Location.Column));
        Assert.Contains("format", error.Message);
    }

    [Fact]
    public void An_unknown_workflow_field_is_reported()
    {
        _project.LakeFile("raw/a.csv", "x\n1\n").Workflow("ingest", """
            name: ingest
            max_paralel: 3
            steps:
              - id: a
                type: read
                path: raw/a.csv
            """);

        var error = DefinitionAssert.Single(_project.Check(), "unknown field 'max_paralel'");

        Assert.Null(error.StepId);
        Assert.Equal(2, error.Location.Line);
    }

    [Fact]
    public void An_unknown_field_in_millrace_yaml_is_reported()
    {
        _project.File("millrace.yaml", "id: test\nlak: ./data\n");

        var error = DefinitionAssert.Single(_project.Check(), "unknown field 'lak'");

        Assert.Equal(new Millrace.Definitions.SourceLocation("millrace.yaml", 2, 1), error.Location);
    }

    [Fact]
    public void An_unknown_schedule_field_is_reported()
    {
        _project.LakeFile("raw/a.csv", "x\n1\n").Workflow("ingest", """
            name: ingest
            steps:
              - id: a
                type: read
                path: raw/a.csv
            """).Pipeline("nightly", """
            name: nightly
            workflows: [ingest]
            schedule: { cron: "0 6 * * *", tz: UTC }
            """);

        var error = DefinitionAssert.Single(_project.Check(), "unknown field 'tz'");

        Assert.Equal("pipelines/nightly.yaml", error.Location.File);
        Assert.Equal(3, error.Location.Line);
    }
}
