using Millrace.Definitions;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Definitions;

public sealed class YamlSyntaxErrorTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public void A_valid_project_has_no_errors()
    {
        _project.LakeFile("raw/a.csv", "x\n1\n").Workflow("ok", """
            name: ok
            steps:
              - id: a
                type: read
                path: raw/a.csv
            """);

        DefinitionAssert.None(_project.Check());
    }

    [Fact]
    public void Bad_indentation_is_reported_with_file_line_and_column()
    {
        _project.Workflow("broken", """
            name: broken
            steps:
              - id: a
                type: read
                path: raw/a.csv
               bad: indent
            """);

        var error = Assert.Single(_project.Check());

        Assert.Equal("workflows/broken.yaml", error.Location.File);
        Assert.Equal(6, error.Location.Line);
        Assert.Equal(4, error.Location.Column);
        Assert.StartsWith("workflows/broken.yaml:6:4: invalid YAML", error.ToString());
    }

    [Fact]
    public void An_unclosed_quote_is_reported_in_the_file_that_has_it()
    {
        _project.Pipeline("nightly", """
            name: nightly
            workflows: [ingest]
            description: "never closed
            """);

        var error = Assert.Single(_project.Check(), e => e.Message.StartsWith("invalid YAML", StringComparison.Ordinal));

        Assert.Equal("pipelines/nightly.yaml", error.Location.File);
        Assert.Equal(3, error.Location.Line);
        Assert.True(error.Location.Column > 0, $"column should be known: {error}");
    }

    [Fact]
    public void A_file_that_is_not_a_mapping_is_reported_at_line_one()
    {
        _project.Workflow("list", "- a\n- b\n");

        var error = Assert.Single(_project.Check());

        Assert.Equal(new SourceLocation("workflows/list.yaml", 1, 1), error.Location);
        Assert.Contains("mapping", error.Message);
    }

    [Fact]
    public void Open_throws_a_DefinitionException_carrying_the_located_error()
    {
        _project.Workflow("broken", "name: broken\nsteps: [\n");

        var exception = Assert.Throws<DefinitionException>(() => Project.Open(_project.Directory));

        var error = Assert.Single(exception.Errors);
        Assert.Equal("workflows/broken.yaml", error.Location.File);
        Assert.True(error.Location.Line >= 2, error.ToString());
        Assert.Contains("workflows/broken.yaml:", exception.Message);
    }
}
