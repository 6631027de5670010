using Millrace.Cli.Tests.TestSupport;

namespace Millrace.Cli.Tests.Commands;

/// <summary>`millrace run`, `runs`, `run show` and their exit codes.</summary>
public sealed class RunCommandTests
{
    static TempDirectory SalesProject()
    {
        var directory = new TempDirectory();
        directory.Write("millrace.yaml", "id: sales\n");
        directory.Write("workflows/by_region.yaml", """
            name: by_region
            parameters:
              region: { default: north }
              min_amount: { type: double, default: 0 }
            steps:
              - id: sales
                type: read
                path: raw/sales.csv
              - id: selected
                type: sql
                inputs: [sales]
                sql: SELECT * FROM sales WHERE region = $region AND amount >= $min_amount
              - id: store
                type: write
                input: selected
                dataset: selected_sales
            """);
        directory.Write("lake/raw/sales.csv", "id,region,amount\n1,north,10\n2,south,20\n3,north,30\n4,north america,40\n");
        return directory;
    }

    [Theory]
    [InlineData(new[] { "--var", "region=north" }, 2)]
    [InlineData(new[] { "--var", "region", "=", "north" }, 2)]
    [InlineData(new[] { "--var", "region=", "north" }, 2)]
    [InlineData(new[] { "--var", "region", "=north" }, 2)]
    [InlineData(new[] { "--var", "region=north america" }, 1)]
    [InlineData(new[] { "--var", "region=north", "--var", "min_amount = 20" }, 1)]
    [InlineData(new[] { "--var", "region=x' OR 1=1 --" }, 0)]
    public async Task Run_accepts_every_sparkflows_var_form(string[] variables, int expectedRows)
    {
        using var project = SalesProject();
        var result = await Shell.RunAsync(["run", "by_region", "-p", project.Path, .. variables]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(expectedRows, (await Committed.RowsAsync(project.Path, "selected_sales", "id")).Count);
    }

    [Theory]
    [InlineData(new[] { "--var", "nope=1" }, "unknown parameter 'nope'")]
    [InlineData(new[] { "--var", "min_amount=abc" }, "parameter 'min_amount' expects a number, got 'abc'")]
    [InlineData(new[] { "--var" }, "'--var' is not followed by NAME=VALUE")]
    [InlineData(new[] { "--var", "region" }, "has no '='")]
    [InlineData(new[] { "--var", "run.id=x" }, "'run.id' is set by Millrace")]
    public async Task A_bad_var_is_a_usage_error_that_names_the_problem_and_runs_nothing(string[] variables, string message)
    {
        using var project = SalesProject();
        var result = await Shell.RunAsync(["run", "by_region", "-p", project.Path, .. variables]);
        Assert.Equal(CliApp.UsageError, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.Empty(await Committed.RunsAsync(project.Path));
    }

    [Fact]
    public async Task An_unknown_target_is_a_usage_error_listing_what_exists()
    {
        using var project = SalesProject();
        var result = await Shell.RunAsync("run", "nightly", "-p", project.Path);
        Assert.Equal(CliApp.UsageError, result.ExitCode);
        Assert.Contains("no pipeline or workflow named 'nightly'", result.Error, StringComparison.Ordinal);
        Assert.Contains("workflows: by_region", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_run_exits_1_and_runs_and_run_show_report_it()
    {
        using var project = SalesProject();
        project.Write("lake/raw/sales.csv", "id,region,amount\n1,north,10\n2,south\n");
        var result = await Shell.RunAsync("run", "by_region", "-p", project.Path);
        Assert.Equal(CliApp.Failure, result.ExitCode);
        Assert.Contains("raw/sales.csv line 3", result.Output, StringComparison.Ordinal);

        var runs = await Shell.RunAsync("runs", "-p", project.Path, "--status", "failed");
        Assert.Equal(0, runs.ExitCode);
        var runId = Assert.Single(await Committed.RunsAsync(project.Path)).Id;
        Assert.Contains(runId, runs.Output, StringComparison.Ordinal);

        var show = await Shell.RunAsync("run", "show", runId, "-p", project.Path);
        Assert.Equal(0, show.ExitCode);
        Assert.Contains("failed", show.Output, StringComparison.Ordinal);
        Assert.Contains("skipped", show.Output, StringComparison.Ordinal);
        Assert.Contains("raw/sales.csv line 3", show.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_show_lists_each_step_with_rows_and_the_run_key_returns_the_same_run()
    {
        using var project = SalesProject();
        var first = await Shell.RunAsync("run", "by_region", "-p", project.Path, "--run-key", "2026-01-01");
        var second = await Shell.RunAsync("run", "by_region", "-p", project.Path, "--run-key", "2026-01-01");
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(0, second.ExitCode);
        var run = Assert.Single(await Committed.RunsAsync(project.Path));
        Assert.Contains(run.Id, second.Output, StringComparison.Ordinal);

        var show = await Shell.RunAsync("run", "show", run.Id, "-p", project.Path);
        foreach (var step in new[] { "sales", "selected", "store" }) Assert.Contains(step, show.Output, StringComparison.Ordinal);
        Assert.Contains("selected_sales", show.Output, StringComparison.Ordinal);
        Assert.Contains("run key: 2026-01-01", show.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_show_of_an_unknown_run_fails_with_a_clear_message()
    {
        using var project = SalesProject();
        var result = await Shell.RunAsync("run", "show", "nope", "-p", project.Path);
        Assert.Equal(CliApp.Failure, result.ExitCode);
        Assert.Contains("no run 'nope'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_project_every_command_says_where_it_looked()
    {
        using var empty = new TempDirectory();
        var result = await Shell.RunAsync("runs", "-p", empty.Path);
        Assert.Equal(CliApp.Failure, result.ExitCode);
        Assert.Contains("no millrace.yaml found", result.Error, StringComparison.Ordinal);
    }
}
