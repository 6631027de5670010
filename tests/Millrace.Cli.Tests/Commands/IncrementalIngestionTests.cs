using Millrace.Cli.Tests.TestSupport;

namespace Millrace.Cli.Tests.Commands;

/// <summary>Incremental reads take each file exactly once, late files included, and flag files rewritten in place.</summary>
public sealed class IncrementalIngestionTests
{
    [Fact]
    public async Task A_file_that_lands_late_in_an_old_partition_is_ingested_exactly_once()
    {
        using var directory = new TempDirectory();
        ExactlyOnceTests.WriteProject(directory);
        Assert.Equal(0, (await Shell.RunAsync("run", "daily", "-p", directory.Path, "--var", "run.date=2026-01-03")).ExitCode);
        Assert.Equal(300, (await Committed.RowsAsync(directory.Path, "events", "event_id")).Count);

        directory.Write("lake/raw/events/dt=2026-01-01/late.csv", "event_id,customer_id,amount\n1001,1,1\n1002,2,2\n1003,3,3\n");
        var late = await Shell.RunAsync("run", "daily", "-p", directory.Path, "--var", "run.date=2026-01-04");
        Assert.True(late.ExitCode == 0, late.ToString());
        var rows = await Committed.RowsAsync(directory.Path, "events", "event_id");
        Assert.Equal(303, rows.Count);
        Assert.Contains("1002,2,2,2026-01-01", rows);

        var again = await Shell.RunAsync("run", "daily", "-p", directory.Path, "--var", "run.date=2026-01-05");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(303, (await Committed.RowsAsync(directory.Path, "events", "event_id")).Count);
        Assert.Contains("0 rows", again.Output.Split('\n').Single(l => l.Contains("ingest.new_events", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_rewritten_in_place_is_reported_as_an_anomaly_and_reprocessed()
    {
        using var directory = new TempDirectory();
        ExactlyOnceTests.WriteProject(directory);
        Assert.Equal(0, (await Shell.RunAsync("run", "daily", "-p", directory.Path, "--var", "run.date=2026-01-03")).ExitCode);

        var file = Path.Combine(directory.Path, "lake", "raw", "events", "dt=2026-01-02", "a.csv");
        File.AppendAllText(file, "5000,5,99\n");
        var rerun = await Shell.RunAsync("run", "daily", "-p", directory.Path, "--var", "run.date=2026-01-04");
        Assert.True(rerun.ExitCode == 0, rerun.ToString());

        var anomalies = await Shell.RunAsync("anomalies", "-p", directory.Path);
        Assert.Contains("rewritten_file", anomalies.Output, StringComparison.Ordinal);
        Assert.Contains("raw/events/dt=2026-01-02/a.csv", anomalies.Output, StringComparison.Ordinal);
        var rows = await Committed.RowsAsync(directory.Path, "events", "event_id");
        Assert.Equal(301, rows.Count); // the file's 50 old rows merge as unchanged, the new one is inserted
    }
}
