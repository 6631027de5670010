using Millrace.Server.Execution;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>
/// A run another node took over while it still ran here (this node's heartbeat lapsed: a long GC, a partition): when
/// it ends, its end is not recorded over the takeover's, and this node neither retries it nor commits anything.
/// </summary>
public sealed class TakeoverTests : IAsyncLifetime
{
    readonly string _gate = TestSteps.NewGate();
    readonly ProjectFolder _project;
    readonly LogCapture _log = new();
    TestServer _server = null!;

    public TakeoverTests()
    {
        _project = new ProjectFolder("takeover")
            .Workflow("waiting", $"name: waiting\nsteps:\n  - id: wait\n    type: gate\n    gate: {_gate}\n  - id: out\n    type: sql\n    sql: SELECT 1 AS x\n  - id: save\n    type: write\n    input: out\n    dataset: saved\n")
            .Pipeline("retried", "name: retried\nworkflows: [waiting]\nretries: { attempts: 2, backoff: 1s }\n");
    }

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(_project, o => o with { EnableScheduler = false, ConfigureLogging = _log.AddTo });

    public async Task DisposeAsync()
    {
        TestSteps.Open(_gate);
        await _server.DisposeAsync();
        _project.Dispose();
    }

    [Fact]
    public async Task A_run_taken_over_while_it_ran_keeps_the_takeovers_record_commits_nothing_and_is_not_retried()
    {
        var store = _server.Host("takeover").Store;
        var client = _server.Client(await _server.TokenAsync("takeover", TokenRole.Admin));
        var (_, accepted) = await client.PostAsync("/api/v1/projects/takeover/pipelines/retried/runs", "{}");
        var runId = accepted.GetProperty("runId").GetString()!;
        await TestServer.EventuallyAsync(() => Task.FromResult(TestSteps.Reached(_gate) > 0), TimeSpan.FromSeconds(20), "the run starts");

        // Another node decides this one is dead and takes the run over (without a resumption, to see what this node does).
        Assert.True(await store.TakeOverRunAsync(runId, _server.Node.Owner, "interrupted: node x stopped sending heartbeats", DateTimeOffset.UtcNow, null, CancellationToken.None));
        TestSteps.Open(_gate);
        await TestServer.EventuallyAsync(async () => _server.App.Services.GetService(typeof(RunExecutor)) is RunExecutor { RunningCount: 0 }
            && (await store.GetLogsAsync(runId, CancellationToken.None)).Any(l => l.Message.Contains("another node had taken it over", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20), "the run ends here");
        // The executor says it leaves the run to its resumption: the run's end is handled, and a retry would be recorded by now.
        await TestServer.EventuallyAsync(() => Task.FromResult(_log.Contains($"run {runId} was taken over by another node while it ran here")), TimeSpan.FromSeconds(20),
            "the executor decides about the run's end");

        var run = (await store.GetRunAsync(runId, CancellationToken.None))!;
        Assert.Equal((RunStatus.Failed, "interrupted: node x stopped sending heartbeats"), (run.Status, run.Error));
        Assert.Null(await store.GetDatasetVersionAsync("saved", null, CancellationToken.None));
        Assert.Equal([runId], (await store.FindRunsAsync(new RunFilter(), new Page(), CancellationToken.None)).Select(r => r.Id));
    }
}
