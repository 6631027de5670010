using System.Diagnostics;
using Millrace.Cli.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Cli.Tests.Commands;

/// <summary>Ctrl-C (SIGINT) stops a run cleanly: the process exits 130 and the run is recorded as cancelled.</summary>
public sealed class CancellationTests
{
    [Fact]
    public async Task Ctrl_c_cancels_the_run_and_records_it_as_cancelled()
    {
        using var project = new TempDirectory();
        project.Write("millrace.yaml", "id: slow\n");
        project.Write("workflows/slow.yaml", """
            steps:
              - id: forever
                type: sql
                sql: SELECT count(*) AS n FROM range(1000000) a, range(1000000) b WHERE a.range + b.range = 7
              - id: store
                type: write
                input: forever
                dataset: never
            """);
        using var process = Shell.Start(null, "run", "slow", "-p", project.Path);
        var output = process.StandardOutput;
        var line = await output.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.StartsWith("run ", line, StringComparison.Ordinal);
        await Task.Delay(500);
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(CliApp.Cancelled, process.ExitCode);

        var run = Assert.Single(await Committed.RunsAsync(project.Path));
        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.Empty(await Committed.RowsAsync(project.Path, "never", "n"));
    }
}
