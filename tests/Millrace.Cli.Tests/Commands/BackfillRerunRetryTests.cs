using Millrace.Cli.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Cli.Tests.Commands;

/// <summary>`millrace backfill`, `rerun` and `retry` keep the original parameters and never redo what succeeded.</summary>
public sealed class BackfillRerunRetryTests
{
    static TempDirectory DailyProject(int days)
    {
        var directory = new TempDirectory();
        directory.Write("millrace.yaml", "id: daily\n");
        directory.Write("workflows/land.yaml", """
            name: land
            parameters:
              factor: { type: int, default: 1 }
            steps:
              - id: sales
                type: read
                path: raw/sales/dt=${run.date}/*.csv
                schema: { id: BIGINT, amount: DOUBLE, dt: DATE }
              - id: scaled
                type: sql
                inputs: [sales]
                sql: SELECT id, amount * $factor AS amount, dt FROM sales
              - id: store
                type: write
                input: scaled
                dataset: sales
                mode: replace_partitions
                partition_by: [dt]
            """);
        directory.Write("workflows/report.yaml", """
            name: report
            steps:
              - id: extra
                type: read
                path: raw/extra/dt=${run.date}/extra.csv
              - id: out
                type: write
                input: extra
                path: reports/dt=${run.date}/extra.csv
            """);
        directory.Write("pipelines/daily.yaml", "workflows: [land]\n");
        directory.Write("pipelines/with_report.yaml", "workflows: [land, report]\n");
        for (var d = 0; d < days; d++)
        {
            var date = new DateOnly(2026, 1, 1).AddDays(d);
            directory.Write($"lake/raw/sales/dt={date:yyyy-MM-dd}/sales.csv", $"id,amount\n{d * 2 + 1},10\n{d * 2 + 2},20\n");
        }
        return directory;
    }

    [Fact]
    public async Task Backfill_over_30_dates_runs_each_once_and_a_second_backfill_skips_them()
    {
        using var project = DailyProject(30);
        var first = await Shell.RunAsync("backfill", "daily", "--from", "2026-01-01", "--to", "2026-01-30", "--max-active", "3", "-p", project.Path);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("backfill done: 30 succeeded, 0 failed, 0 skipped", first.Output, StringComparison.Ordinal);
        Assert.Equal(60, (await Committed.RowsAsync(project.Path, "sales", "id")).Count);
        var runs = await Committed.RunsAsync(project.Path);
        Assert.Equal(30, runs.Where(r => r.Status == RunStatus.Succeeded).Select(r => r.RunDate).Distinct().Count());
        Assert.All(runs, r => Assert.Equal(TriggerKind.Backfill, r.Trigger));

        var second = await Shell.RunAsync("backfill", "daily", "--from", "2026-01-01", "--to", "2026-01-30", "-p", project.Path);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("0 date(s) to run, 30 already succeeded (skipped)", second.Output, StringComparison.Ordinal);
        Assert.Equal(runs.Count, (await Committed.RunsAsync(project.Path)).Count);

        var again = await Shell.RunAsync("backfill", "daily", "--from", "2026-01-29", "--to", "2026-01-30", "--rerun-succeeded", "-p", project.Path);
        Assert.Contains("backfill done: 2 succeeded", again.Output, StringComparison.Ordinal);
        Assert.Equal(60, (await Committed.RowsAsync(project.Path, "sales", "id")).Count); // replace_partitions: a rerun replaces its day
    }

    [Theory]
    [InlineData("--from", "2026-02-30", "--to", "2026-03-01", "--from must be a date")]
    [InlineData("--from", "2026-03-02", "--to", "2026-03-01", "--to is before --from")]
    public async Task Backfill_refuses_bad_dates(string a, string b, string c, string d, string message)
    {
        using var project = DailyProject(1);
        var result = await Shell.RunAsync("backfill", "daily", a, b, c, d, "-p", project.Path);
        Assert.Equal(CliApp.UsageError, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rerun_keeps_the_original_parameters_and_run_date()
    {
        using var project = DailyProject(2);
        Assert.Equal(0, (await Shell.RunAsync("run", "daily", "-p", project.Path, "--var", "run.date=2026-01-02", "--var", "factor=3")).ExitCode);
        var original = Assert.Single(await Committed.RunsAsync(project.Path));
        var rerun = await Shell.RunAsync("rerun", original.Id, "-p", project.Path);
        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        var second = (await Committed.RunsAsync(project.Path)).Single(r => r.Id != original.Id);
        Assert.Equal(TriggerKind.Rerun, second.Trigger);
        Assert.Equal(original.Id, second.ParentRunId);
        Assert.Equal(new DateOnly(2026, 1, 2), second.RunDate);
        Assert.Contains(new KeyValuePair<string, string>("factor", "3"), second.Parameters);
        Assert.Equal(["3,30,2026-01-02", "4,60,2026-01-02"], await Committed.RowsAsync(project.Path, "sales", "id"));
    }

    [Fact]
    public async Task Retry_resumes_at_the_failed_workflow_and_reuses_what_was_committed()
    {
        using var project = DailyProject(1);
        var failed = await Shell.RunAsync("run", "with_report", "-p", project.Path, "--var", "run.date=2026-01-01", "--var", "factor=2");
        Assert.Equal(CliApp.Failure, failed.ExitCode);
        var original = Assert.Single(await Committed.RunsAsync(project.Path));
        Assert.Contains("no files match 'raw/extra/dt=2026-01-01/extra.csv'", original.Error, StringComparison.Ordinal);

        project.Write("lake/raw/extra/dt=2026-01-01/extra.csv", "k,v\na,1\n");
        var succeeded = await Shell.RunAsync("retry", original.Id, "-p", project.Path);
        Assert.True(succeeded.ExitCode == 0, succeeded.ToString());
        var retry = (await Committed.RunsAsync(project.Path)).Single(r => r.Id != original.Id);
        Assert.Equal(TriggerKind.Retry, retry.Trigger);
        Assert.Equal(new DateOnly(2026, 1, 1), retry.RunDate);
        Assert.True(File.Exists(Path.Combine(project.Path, "lake", "reports", "dt=2026-01-01", "extra.csv")));

        var show = await Shell.RunAsync("run", "show", retry.Id, "-p", project.Path, "--logs");
        Assert.Contains($"workflow 'land' was committed by run {original.Id}; reusing its commit", show.Output, StringComparison.Ordinal);
        var datasets = await Shell.RunAsync("datasets", "sales", "-p", project.Path);
        Assert.Contains("v1", datasets.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("v2", datasets.Output, StringComparison.Ordinal); // land was not run again

        var again = await Shell.RunAsync("retry", retry.Id, "-p", project.Path);
        Assert.Equal(CliApp.UsageError, again.ExitCode);
        Assert.Contains("only failed or cancelled runs can be retried", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Security")]
    public async Task A_second_retry_of_the_same_run_answers_with_the_first_retry_and_runs_nothing()
    {
        using var project = DailyProject(1);
        await Shell.RunAsync("run", "with_report", "-p", project.Path, "--var", "run.date=2026-01-01");
        var original = Assert.Single(await Committed.RunsAsync(project.Path));
        project.Write("lake/raw/extra/dt=2026-01-01/extra.csv", "k,v\na,1\n");
        var first = await Shell.RunAsync("retry", original.Id, "-p", project.Path);
        Assert.True(first.ExitCode == 0, first.ToString());
        var retry = (await Committed.RunsAsync(project.Path)).Single(r => r.Id != original.Id);

        var second = await Shell.RunAsync("retry", original.Id, "-p", project.Path);

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains($"run {original.Id} was already retried as run {retry.Id}", second.Output, StringComparison.Ordinal);
        Assert.Contains("nothing ran now", second.Output, StringComparison.Ordinal);
        Assert.Equal(2, (await Committed.RunsAsync(project.Path)).Count);
    }
}
