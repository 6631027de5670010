using Millrace.Cli.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Cli.Tests.Commands;

/// <summary>`millrace stale mark | list`, and what `run show` and `datasets` say of stale and up-to-date runs.</summary>
public sealed class StaleCommandTests
{
    static TempDirectory DailyProject()
    {
        var directory = new TempDirectory();
        directory.Write("millrace.yaml", "id: sales\n");
        directory.Write("workflows/ingest.yaml", """
            name: ingest
            steps:
              - { id: sales, type: read, path: "raw/sales/*.csv" }
              - { id: store, type: write, input: sales, dataset: sales }
            """);
        directory.Write("pipelines/daily.yaml", "name: daily\nworkflows: [ingest]\n");
        directory.Write("lake/raw/sales/a.csv", "id,amount\n1,10\n2,20\n");
        return directory;
    }

    static async Task<Run> LatestRunAsync(TempDirectory project) => (await Committed.RunsAsync(project.Path)).OrderBy(r => r.CreatedAt).Last();

    [Fact]
    public async Task A_marked_run_is_stale_in_run_show_and_datasets_until_a_rerun_succeeds()
    {
        using var project = DailyProject();
        Assert.Equal(0, (await Shell.RunAsync("run", "daily", "-p", project.Path, "--var", "run.date=2026-01-02")).ExitCode);
        var first = await LatestRunAsync(project);

        var marked = await Shell.RunAsync("stale", "mark", "daily", "--date", "2026-01-02", "--reason", "the shop resent its sales", "-p", project.Path);
        Assert.True(marked.ExitCode == 0, marked.ToString());
        Assert.Contains($"marked 1 run(s) of 'daily' for 2026-01-02 stale: {first.Id}", marked.Output, StringComparison.Ordinal);

        var show = await Shell.RunAsync("run", "show", first.Id, "-p", project.Path);
        Assert.Contains("stale: this run's outputs are stale since", show.Output, StringComparison.Ordinal);
        Assert.Contains("the shop resent its sales", show.Output, StringComparison.Ordinal);
        Assert.Contains("stale: the shop resent its sales", (await Shell.RunAsync("datasets", "sales", "-p", project.Path)).Output, StringComparison.Ordinal);

        // Same inputs, but stale outputs are never up to date: the rerun runs, and its success clears the mark.
        var rerun = await Shell.RunAsync("run", "daily", "-p", project.Path, "--var", "run.date=2026-01-02");
        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        var second = await LatestRunAsync(project);
        Assert.Equal(RunStatus.Succeeded, second.Status);
        Assert.Contains($"until run {second.Id} replaced its outputs", (await Shell.RunAsync("run", "show", first.Id, "-p", project.Path)).Output, StringComparison.Ordinal);
        Assert.DoesNotContain("stale:", (await Shell.RunAsync("datasets", "sales", "-p", project.Path)).Output, StringComparison.Ordinal);
        var list = await Shell.RunAsync("stale", "list", "daily", "--from", "2026-01-01", "-p", project.Path);
        Assert.Contains("cleared", list.Output, StringComparison.Ordinal);
        Assert.Contains(second.Id, list.Output, StringComparison.Ordinal);

        // Now it is up to date, and run show says with which run.
        var again = await Shell.RunAsync("run", "daily", "-p", project.Path, "--var", "run.date=2026-01-02");
        Assert.True(again.ExitCode == 0, again.ToString());
        var third = await LatestRunAsync(project);
        Assert.Equal(RunStatus.UpToDate, third.Status);
        var shown = await Shell.RunAsync("run", "show", third.Id, "-p", project.Path);
        Assert.Contains("up to date", shown.Output, StringComparison.Ordinal);
        Assert.Contains($"workflow 'ingest' up to date: same inputs as run {second.Id}", shown.Output, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Security")]
    public async Task Mark_refuses_an_unknown_pipeline_a_bad_date_and_an_empty_reason()
    {
        using var project = DailyProject();
        foreach (var args in new[]
        {
            new[] { "stale", "mark", "nope", "--date", "2026-01-02", "--reason", "x" },
            ["stale", "mark", "daily", "--date", "2026-13-02", "--reason", "x"],
            ["stale", "mark", "daily", "--date", "2026-01-02", "--reason", "  "],
            ["stale", "list", "--from", "yesterday"],
        })
        {
            var result = await Shell.RunAsync([.. args, "-p", project.Path]);
            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.StartsWith("error: ", result.Error, StringComparison.Ordinal);
        }
        Assert.Contains("nothing marked", (await Shell.RunAsync("stale", "mark", "daily", "--date", "2026-01-02", "--reason", "x", "-p", project.Path)).Output, StringComparison.Ordinal);
    }
}
