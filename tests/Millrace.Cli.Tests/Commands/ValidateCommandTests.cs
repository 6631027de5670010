using Millrace.Cli.Tests.TestSupport;

namespace Millrace.Cli.Tests.Commands;

/// <summary>`millrace validate` lists every error with file, line, column and step id.</summary>
public sealed class ValidateCommandTests
{
    [Fact]
    public async Task Validate_lists_every_error_with_its_location_and_exits_1()
    {
        using var project = new TempDirectory();
        project.Write("millrace.yaml", "id: broken\n");
        project.Write("workflows/w.yaml", """
            name: w
            steps:
              - id: a
                type: reed
                path: x.csv
              - id: b
                type: sql
                inputs: [missing]
                sql: SELECT * FROM missing WHERE x = $undeclared
            """);
        project.Write("pipelines/p.yaml", """
            workflows: [w, ghost]
            schedule: { cron: "61 * * * *" }
            """);
        var result = await Shell.RunAsync("validate", "-p", project.Path);
        Assert.Equal(CliApp.Failure, result.ExitCode);
        Assert.Contains("workflows/w.yaml:4:11: step 'a': unknown step kind 'reed'; did you mean 'read'?", result.Error, StringComparison.Ordinal);
        Assert.Contains("workflows/w.yaml:8:14: step 'b': unknown input 'missing'", result.Error, StringComparison.Ordinal);
        Assert.Contains("step 'b': undeclared parameter '$undeclared'", result.Error, StringComparison.Ordinal);
        Assert.Contains("pipelines/p.yaml:1:16: pipeline 'p' names workflow 'ghost'", result.Error, StringComparison.Ordinal);
        Assert.Contains("bad cron '61 * * * *'", result.Error, StringComparison.Ordinal);
        Assert.Contains("5 errors in project 'broken'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_valid_project_reports_what_it_holds()
    {
        using var project = new TempDirectory();
        project.Write("millrace.yaml", "id: fine\n");
        project.Write("workflows/w.yaml", "steps:\n  - { id: a, type: read, path: x.csv }\n");
        var result = await Shell.RunAsync("validate", "-p", project.Path);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("project 'fine' is valid: 0 pipeline(s), 1 workflow(s), 1 step(s)", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Running_an_invalid_project_refuses_before_anything_runs()
    {
        using var project = new TempDirectory();
        project.Write("millrace.yaml", "id: broken\n");
        project.Write("workflows/w.yaml", "steps:\n  - { id: a, type: nope }\n");
        var result = await Shell.RunAsync("run", "w", "-p", project.Path);
        Assert.Equal(CliApp.Failure, result.ExitCode);
        Assert.Contains("unknown step kind 'nope'", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(project.Path, ".millrace", "millrace.db")));
    }
}
