using Millrace.Cli.Tests.TestSupport;

namespace Millrace.Cli.Tests.Commands;

/// <summary>`millrace init`, `quickstart` and `steps` from a user's first minutes.</summary>
public sealed class InitQuickstartStepsTests
{
    [Fact]
    public async Task Init_makes_a_project_that_validates_and_runs()
    {
        using var directory = new TempDirectory();
        var root = Path.Combine(directory.Path, "demo");
        var init = await Shell.RunAsync("init", root);
        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.Equal(0, (await Shell.RunAsync("validate", "-p", root)).ExitCode);
        var run = await Shell.RunAsync("run", "daily", "-p", root);
        Assert.True(run.ExitCode == 0, run.ToString());
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var report = File.ReadAllText(Path.Combine(root, "lake", "reports", "revenue", $"dt={today:yyyy-MM-dd}", "revenue.csv"));
        Assert.StartsWith("region,orders,revenue", report, StringComparison.Ordinal);
        Assert.Equal(CliApp.Failure, (await Shell.RunAsync("init", root)).ExitCode);
    }

    [Fact]
    public async Task Quickstart_without_serving_runs_the_simulated_days_and_leaves_committed_datasets()
    {
        using var directory = new TempDirectory();
        var root = Path.Combine(directory.Path, "qs");
        var result = await Shell.RunAsync("quickstart", "--no-serve", "--days", "3", "--customers", "300", "--dir", root);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("day 2026-01-03", result.Output, StringComparison.Ordinal);

        var runs = await Committed.RunsAsync(root);
        Assert.Equal(6, runs.Count);
        Assert.All(runs, r => Assert.Equal(Millrace.Storage.RunStatus.Succeeded, r.Status));
        var customers = await Committed.RowsAsync(root, "customers", "customer_id");
        Assert.True(customers.Count >= 300, $"{customers.Count} customers");
        Assert.Equal(customers.Count, customers.Select(c => c.Split(',')[0]).Distinct().Count());
        Assert.True(File.Exists(Path.Combine(root, "lake", "reports", "daily_summary", "dt=2026-01-03", "summary.csv")));

        var listed = await Shell.RunAsync("runs", "-p", root);
        Assert.Contains("ingestion", listed.Output, StringComparison.Ordinal);
        Assert.Contains("preparation", listed.Output, StringComparison.Ordinal);

        // A second quickstart replaces its own folder; it never overwrites a folder it did not make.
        Assert.Equal(0, (await Shell.RunAsync("quickstart", "--no-serve", "--days", "1", "--customers", "50", "--dir", root)).ExitCode);
        var foreign = Path.Combine(directory.Path, "mine");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "keep.txt"), "x");
        Assert.Equal(CliApp.Failure, (await Shell.RunAsync("quickstart", "--no-serve", "--days", "1", "--dir", foreign)).ExitCode);
        Assert.True(File.Exists(Path.Combine(foreign, "keep.txt")));
    }

    [Fact]
    public async Task Steps_lists_the_catalog_as_in_the_golden_file()
    {
        var result = await Shell.RunAsync("steps");
        Assert.Equal(0, result.ExitCode);
        var golden = Path.Combine(AppContext.BaseDirectory, "Golden", "steps.txt");
        if (Environment.GetEnvironmentVariable("MILLRACE_UPDATE_GOLDEN") == "1")
            File.WriteAllText(Path.Combine(SourceDirectory(), "Golden", "steps.txt"), result.Output);
        Assert.Equal(File.ReadAllText(golden).ReplaceLineEndings("\n"), result.Output.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Steps_of_one_kind_lists_its_options_and_an_unknown_kind_is_refused()
    {
        var read = await Shell.RunAsync("steps", "read");
        Assert.Equal(0, read.ExitCode);
        foreach (var option in new[] { "path", "format", "schema", "incremental", "allow_empty" })
            Assert.Contains(option, read.Output, StringComparison.Ordinal);
        var unknown = await Shell.RunAsync("steps", "nope");
        Assert.Equal(CliApp.UsageError, unknown.ExitCode);
    }

    static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetDirectoryName(Path.GetDirectoryName(path))!;
}
