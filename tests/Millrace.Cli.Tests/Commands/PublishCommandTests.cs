using Millrace.Cli.Tests.TestSupport;
using Millrace.Definitions;
using Millrace.Storage;

namespace Millrace.Cli.Tests.Commands;

/// <summary>
/// `millrace publish list | retry | discard` on a committed file whose publish always fails (its final folder is a
/// file), the state older versions left that made every later run fail.
/// </summary>
[Trait("Category", "Security")]
public sealed class PublishCommandTests : IDisposable
{
    readonly TempDirectory _project = new();

    public PublishCommandTests()
    {
        _project.Write("millrace.yaml", "id: publish\n");
        _project.Write("lake/raw/customers.csv", "customer_id,region\n1,north\n");
        _project.Write("workflows/export.yaml", """
            name: export
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: out
                type: write
                input: customers
                path: exports/customers.csv
            """);
    }

    public void Dispose() => _project.Dispose();

    [Fact]
    public async Task List_shows_a_stuck_file_and_discard_drops_it_while_runs_keep_working()
    {
        await CommitStuckFileAsync();

        var run = await Shell.RunAsync("run", "export", "-p", _project.Path);
        var list = await Shell.RunAsync("publish", "list", "-p", _project.Path);
        var gc = await Shell.RunAsync("gc", "-p", _project.Path);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("old-run", list.Output);
        Assert.Contains("exports/blocker/out.csv", list.Output);
        Assert.Contains("is a file", list.Output);
        Assert.Equal(0, gc.ExitCode);
        Assert.Contains("1 committed file(s) still unpublished", gc.Output);

        var discard = await Shell.RunAsync("publish", "discard", "old-run", "-p", _project.Path);

        Assert.Equal(0, discard.ExitCode);
        Assert.Contains("discarded exports/blocker/out.csv", discard.Output);
        Assert.False(File.Exists(Path.Combine(_project.Path, "lake/_staging/old-run/export/out/out.csv")));
        Assert.Contains("nothing waiting", (await Shell.RunAsync("publish", "list", "-p", _project.Path)).Output);
        var again = await Shell.RunAsync("publish", "discard", "old-run", "-p", _project.Path);
        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith("error: run old-run has no file waiting", again.Error);
    }

    [Fact]
    public async Task Retry_fails_while_the_cause_remains_and_publishes_once_it_is_fixed()
    {
        await CommitStuckFileAsync();

        var failing = await Shell.RunAsync("publish", "retry", "-p", _project.Path);
        File.Delete(Path.Combine(_project.Path, "lake/exports/blocker"));
        var fixedRetry = await Shell.RunAsync("publish", "retry", "-p", _project.Path);

        Assert.Equal(1, failing.ExitCode);
        Assert.Contains("error: 'exports/blocker/out.csv' of run old-run", failing.Error);
        Assert.Equal(0, fixedRetry.ExitCode);
        Assert.Contains("published 1 file(s); 0 still waiting", fixedRetry.Output);
        Assert.Equal("stuck", File.ReadAllText(Path.Combine(_project.Path, "lake/exports/blocker/out.csv")));
    }

    async Task CommitStuckFileAsync()
    {
        _project.Write("lake/exports/blocker", "a file where a folder should be");
        var staged = new StagedFile("_staging/old-run/export/out/out.csv", "exports/blocker/out.csv");
        _project.Write("lake/" + staged.StagingPath, "stuck");
        await using var store = await MetadataStores.OpenAsync(Project.Open(_project.Path), CancellationToken.None, create: true);
        await store.CommitAsync(new WorkflowCommit("old-run", "export", [], [staged]), CancellationToken.None);
    }
}
