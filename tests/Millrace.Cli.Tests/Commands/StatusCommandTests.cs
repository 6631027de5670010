using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Millrace.Cli.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Cli.Tests.Commands;

/// <summary>`millrace status` lists one status per run date, and `backfill --only` plans from it.</summary>
public sealed class StatusCommandTests
{
    /// <summary>Files for 01, 02 and 04; runs of 01 and 02 succeed, the run of 03 fails (no file), 04 and 05 never ran.</summary>
    static async Task<TempDirectory> ProjectWithHistoryAsync()
    {
        var directory = new TempDirectory();
        directory.Write("millrace.yaml", "id: daily\n");
        directory.Write("workflows/land.yaml", """
            name: land
            steps:
              - id: sales
                type: read
                path: raw/sales/dt=${run.date}/*.csv
                schema: { id: BIGINT, amount: DOUBLE, dt: DATE }
              - id: store
                type: write
                input: sales
                dataset: sales
                mode: replace_partitions
                partition_by: [dt]
            """);
        directory.Write("pipelines/daily.yaml", "workflows: [land]\n");
        foreach (var day in new[] { 1, 2, 4 }) WriteSales(directory, day);
        foreach (var day in new[] { 1, 2, 3 })
            await Shell.RunAsync("run", "daily", "-p", directory.Path, "--var", $"run.date=2026-01-0{day}");
        return directory;
    }

    static void WriteSales(TempDirectory directory, int day) =>
        directory.Write($"lake/raw/sales/dt=2026-01-0{day}/sales.csv", $"id,amount\n{day},10\n");

    static string Line(string output, string date) => output.Split('\n').Single(l => l.Contains(date, StringComparison.Ordinal));

    [Fact]
    public async Task Status_lists_each_date_with_its_status_latest_run_and_a_summary()
    {
        using var project = await ProjectWithHistoryAsync();
        var runs = await Committed.RunsAsync(project.Path);
        var result = await Shell.RunAsync("status", "daily", "--from", "2026-01-01", "--to", "2026-01-05", "-p", project.Path);

        Assert.True(result.ExitCode == 0, result.ToString());
        var failed = runs.Single(r => r.Status == RunStatus.Failed);
        Assert.Contains("succeeded", Line(result.Output, "2026-01-01"), StringComparison.Ordinal);
        Assert.Contains(runs.Single(r => r.RunDate == new DateOnly(2026, 1, 2)).Id, Line(result.Output, "2026-01-02"), StringComparison.Ordinal);
        Assert.Contains("failed", Line(result.Output, "2026-01-03"), StringComparison.Ordinal);
        Assert.Contains(failed.Id, Line(result.Output, "2026-01-03"), StringComparison.Ordinal);
        Assert.Contains("no files match", Line(result.Output, "2026-01-03"), StringComparison.Ordinal);
        Assert.Contains("missing", Line(result.Output, "2026-01-04"), StringComparison.Ordinal);
        Assert.Contains("daily: 5 dates: 2 missing, 2 succeeded, 1 failed", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_json_is_the_apis_shape_one_item_per_date()
    {
        using var project = await ProjectWithHistoryAsync();
        var result = await Shell.RunAsync("status", "daily", "--from", "2026-01-02", "--to", "2026-01-04", "--json", "-p", project.Path);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Output);
        var root = json.RootElement;
        Assert.Equal(("daily", "2026-01-02", "2026-01-04"), (root.GetProperty("pipeline").GetString(), root.GetProperty("from").GetString(), root.GetProperty("to").GetString()));
        var items = root.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["succeeded", "failed", "missing"], items.Select(i => i.GetProperty("status").GetString()));
        Assert.Equal("failed", items[1].GetProperty("latestRun").GetProperty("status").GetString());
        Assert.Equal(1, items[1].GetProperty("runsByStatus").GetProperty("failed").GetInt32());
        Assert.Equal(JsonValueKind.Null, items[2].GetProperty("latestRun").ValueKind);
        Assert.Equal(0, items[2].GetProperty("runs").GetInt32());
    }

    [Fact]
    public async Task Without_a_range_status_shows_the_last_14_dates_up_to_today_by_the_hosts_clock()
    {
        using var project = await ProjectWithHistoryAsync();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 23, 30, 0, TimeSpan.Zero));
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await CliApp.RunAsync(["status", "daily", "--json", "-p", project.Path], output, error, clock);

        Assert.True(exit == 0, error.ToString());
        using var json = JsonDocument.Parse(output.ToString());
        var items = json.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("date").GetString()).ToList();
        Assert.Equal(14, items.Count);
        Assert.Equal(("2025-12-23", "2026-01-05"), (items[0], items[^1]));
    }

    [Theory]
    [InlineData("--from", "2026-01-32", "--from must be a date yyyy-MM-dd, got '2026-01-32'")]
    [InlineData("--to", "yesterday", "--to must be a date yyyy-MM-dd, got 'yesterday'")]
    [InlineData("--from", "2030-01-01", "ends (")]
    [InlineData("--from", "2000-01-01", "a range covers at most 3660 dates")]
    public async Task Status_refuses_bad_and_reversed_dates_and_ranges_over_3660_dates(string option, string value, string message)
    {
        using var project = await ProjectWithHistoryAsync();
        var result = await Shell.RunAsync("status", "daily", option, value, option == "--to" ? "--from" : "--to", option == "--to" ? "2026-01-01" : "2026-01-05", "-p", project.Path);
        Assert.Equal(CliApp.UsageError, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_of_an_unknown_pipeline_names_the_pipelines()
    {
        using var project = await ProjectWithHistoryAsync();
        var result = await Shell.RunAsync("status", "weekly", "-p", project.Path);
        Assert.Equal(CliApp.UsageError, result.ExitCode);
        Assert.Contains("no pipeline or workflow 'weekly' in project 'daily' (pipelines: daily)", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backfill_only_failed_and_missing_runs_exactly_those_dates()
    {
        using var project = await ProjectWithHistoryAsync();
        WriteSales(project, 3);
        WriteSales(project, 5);
        var before = await Committed.RunsAsync(project.Path);

        var dry = await Shell.RunAsync("backfill", "daily", "--from", "2026-01-01", "--to", "2026-01-05", "--only", "failed,missing", "--dry-run", "-p", project.Path);
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains("  2026-01-03  failed\n  2026-01-04  missing\n  2026-01-05  missing\ndry run: nothing was run", dry.Output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Equal(before.Count, (await Committed.RunsAsync(project.Path)).Count);

        var result = await Shell.RunAsync("backfill", "daily", "--from", "2026-01-01", "--to", "2026-01-05", "--only", "failed,missing", "-p", project.Path);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("3 date(s) to run, 2 left out (--only missing,failed)", result.Output, StringComparison.Ordinal);
        var added = (await Committed.RunsAsync(project.Path)).Where(r => before.All(b => b.Id != r.Id)).ToList();
        Assert.Equal([new DateOnly(2026, 1, 3), new DateOnly(2026, 1, 4), new DateOnly(2026, 1, 5)], added.Select(r => r.RunDate).Order());
        Assert.All(added, r => Assert.Equal((TriggerKind.Backfill, RunStatus.Succeeded), (r.Trigger, r.Status)));
        var status = await Shell.RunAsync("status", "daily", "--from", "2026-01-01", "--to", "2026-01-05", "-p", project.Path);
        Assert.Contains("daily: 5 dates: 5 succeeded", status.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("failed,brokn", "--only: unknown date status 'brokn'; choose from missing, waiting, succeeded, failed, cancelled, skipped, stale, up_to_date, deadline_missed")]
    [InlineData("running", "--only: unknown date status 'running'; choose from missing")]
    public async Task Backfill_only_refuses_unknown_statuses_listing_the_choices(string only, string message)
    {
        using var project = await ProjectWithHistoryAsync();
        var result = await Shell.RunAsync("backfill", "daily", "--from", "2026-01-01", "--to", "2026-01-05", "--only", only, "-p", project.Path);
        Assert.Equal(CliApp.UsageError, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backfill_only_does_not_combine_with_rerun_succeeded()
    {
        using var project = await ProjectWithHistoryAsync();
        var result = await Shell.RunAsync("backfill", "daily", "--from", "2026-01-01", "--to", "2026-01-05", "--only", "failed", "--rerun-succeeded", "-p", project.Path);
        Assert.Equal(CliApp.UsageError, result.ExitCode);
        Assert.Contains("--only and --rerun-succeeded do not combine", result.Error, StringComparison.Ordinal);
    }
}
