using Millrace.Cli.Tests.TestSupport;
using Millrace.Definitions;
using Millrace.Storage;

namespace Millrace.Cli.Tests.Commands;

/// <summary>
/// No run stays <c>running</c> forever: a run is recorded with its owner in one write (a kill right after the insert
/// leaves a run recovery can tell is dead), a running run without an owner is interrupted, and <c>gc --dry-run</c>
/// lists the runs a real gc would mark interrupted without marking them.
/// </summary>
[Trait("Category", "Security")]
public sealed class InterruptedRunTests : IDisposable
{
    const string RunDate = "2026-01-03";
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    readonly TempDirectory _directory = new();

    public InterruptedRunTests() => ExactlyOnceTests.WriteProject(_directory);

    public void Dispose() => _directory.Dispose();

    async Task<IMetadataStore> StoreAsync() => await MetadataStores.OpenAsync(Project.Open(_directory.Path), CancellationToken.None);

    [Fact]
    public async Task A_run_killed_right_after_it_was_recorded_has_an_owner_and_is_retried()
    {
        var crashed = await Shell.RunProcessAsync(new Dictionary<string, string> { ["MILLRACE_FAULT"] = "run.created" }, Timeout,
            "run", "daily", "-p", _directory.Path, "--var", $"run.date={RunDate}");
        Assert.True(crashed.ExitCode != 0 && crashed.Error.Contains("killing the process at run.created", StringComparison.Ordinal), crashed.ToString());
        await using (var store = await StoreAsync())
        {
            var (run, owner) = Assert.Single(await store.GetRunningRunsAsync(CancellationToken.None));
            Assert.NotNull(owner);
            Assert.Equal(RunDate, run.RunDate.ToString("yyyy-MM-dd"));
        }

        var runId = Assert.Single(await Committed.RunsAsync(_directory.Path)).Id;
        var retried = await Shell.RunAsync("retry", runId, "-p", _directory.Path);
        Assert.True(retried.ExitCode == 0, retried.ToString());
        var runs = await Committed.RunsAsync(_directory.Path);
        Assert.Contains("interrupted", runs.Single(r => r.Id == runId).Error, StringComparison.Ordinal);
        Assert.Equal(300, (await Committed.RowsAsync(_directory.Path, "events", "event_id")).Count);
    }

    [Fact]
    public async Task A_running_run_without_an_owner_is_interrupted_and_retry_resumes_it()
    {
        // What a kill between the two writes of earlier versions left: a running run that names no process.
        var orphan = new Run
        {
            Id = "20260103-000000-0a0a0a", ProjectId = "exactly_once", Target = "daily", TargetKind = "pipeline", Trigger = TriggerKind.Cli,
            Status = RunStatus.Running, Parameters = [new("run.date", RunDate)], RunDate = DateOnly.Parse(RunDate, System.Globalization.CultureInfo.InvariantCulture),
            DefinitionsHash = "old", CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-5), StartedAt = DateTimeOffset.UtcNow.AddMinutes(-5),
        };
        await using (var store = await StoreAsync()) await store.CreateRunAsync(orphan, CancellationToken.None);

        var retried = await Shell.RunAsync("retry", orphan.Id, "-p", _directory.Path);
        Assert.True(retried.ExitCode == 0, retried.ToString());
        var runs = await Committed.RunsAsync(_directory.Path);
        var original = runs.Single(r => r.Id == orphan.Id);
        Assert.Equal(RunStatus.Failed, original.Status);
        Assert.Contains("interrupted", original.Error, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Succeeded, runs.Single(r => r.ParentRunId == orphan.Id).Status);
        await using (var store = await StoreAsync()) Assert.Empty(await store.GetRunningRunsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Gc_dry_run_lists_interrupted_runs_and_changes_nothing_and_gc_then_does_what_it_said()
    {
        var crashed = await Shell.RunProcessAsync(new Dictionary<string, string> { ["MILLRACE_FAULT"] = "ingest.history.mid-write" }, Timeout,
            "run", "daily", "-p", _directory.Path, "--var", $"run.date={RunDate}");
        Assert.True(crashed.ExitCode != 0, crashed.ToString());
        var runId = Assert.Single(await Committed.RunsAsync(_directory.Path)).Id;
        var datasets = Path.Combine(_directory.Path, "lake", "datasets");
        var filesBefore = Directory.GetFiles(datasets, "*", SearchOption.AllDirectories).Length;
        Assert.True(filesBefore > 0);

        var dry = await Shell.RunAsync("gc", "--dry-run", "-p", _directory.Path);
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains("1 interrupted run(s) would be marked failed", dry.Output, StringComparison.Ordinal);
        Assert.Contains($"interrupted: {runId}", dry.Output, StringComparison.Ordinal);
        Assert.Contains($"would remove {filesBefore} orphaned dataset file(s)", dry.Output, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Running, Assert.Single(await Committed.RunsAsync(_directory.Path)).Status);
        Assert.Equal(filesBefore, Directory.GetFiles(datasets, "*", SearchOption.AllDirectories).Length);

        var gc = await Shell.RunAsync("gc", "-p", _directory.Path);
        Assert.True(gc.ExitCode == 0, gc.ToString());
        Assert.Contains($"removed {filesBefore} orphaned dataset file(s)", gc.Output, StringComparison.Ordinal);
        Assert.Contains("1 interrupted run(s) marked failed", gc.Output, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Failed, Assert.Single(await Committed.RunsAsync(_directory.Path)).Status);
    }
}
