using Millrace.Definitions;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Definitions;

public sealed class ErrorCollectionTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    void WriteProjectWithThreeErrors() =>
        _project.Workflow("ingest", """
            name: ingest
            steps:
              - id: a
                type: raed
                path: raw/a.csv
            """).Workflow("prepare", """
            name: prepare
            steps:
              - id: b
                type: sql
                sql: SELECT 1
              - id: b
                type: sql
                sql: SELECT 2
            """).Pipeline("nightly", """
            name: nightly
            workflows: [ingest, prepare]
            schedule: { cron: "61 * * * *" }
            """);

    [Fact]
    public void Check_lists_every_error_not_just_the_first()
    {
        WriteProjectWithThreeErrors();

        var errors = _project.Check();

        Assert.True(errors.Count == 3, string.Join(Environment.NewLine, errors));
        DefinitionAssert.Single(errors, "unknown step kind 'raed'");
        DefinitionAssert.Single(errors, "duplicate step id 'b'");
        DefinitionAssert.Single(errors, "bad cron");
    }

    [Fact]
    public void Open_throws_with_all_errors_sorted_by_file_and_line()
    {
        WriteProjectWithThreeErrors();

        var exception = Assert.Throws<DefinitionException>(() => _project.Open());

        Assert.Equal(3, exception.Errors.Count);
        Assert.Equal(["pipelines/nightly.yaml", "workflows/ingest.yaml", "workflows/prepare.yaml"], exception.Errors.Select(e => e.Location.File));
        Assert.StartsWith("3 definition errors:", exception.Message);
    }

    [Fact]
    public void A_syntax_error_in_one_file_does_not_hide_errors_in_another()
    {
        _project.Workflow("broken", "name: broken\nsteps: [\n").Workflow("other", """
            name: other
            steps:
              - id: a
                type: sqll
                sql: SELECT 1
            """);

        var errors = _project.Check();

        Assert.Equal(2, errors.Count);
        DefinitionAssert.Single(errors, "invalid YAML");
        DefinitionAssert.Single(errors, "unknown step kind 'sqll'");
    }
}
