using Millrace.Engine;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Engine;

/// <summary>
/// The server's path through the one executor: a request is checked and recorded as Queued (Prepare), claimed, then
/// executed (ExecuteAsync) with the pipeline's timeout and a stop reason from outside.
/// </summary>
public sealed class QueuedRunTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.Workflow("numbers", """
                name: numbers
                parameters: { count: { type: int, default: 3 } }
                steps:
                  - id: rows
                    type: sql
                    sql: SELECT range AS n FROM range($count)
                """)
            .Workflow("slow", """
                name: slow
                steps:
                  - id: heavy
                    type: sql
                    sql: SELECT count(*) AS n FROM range(100000000000) a
                """)
            .Pipeline("counting", "name: counting\nworkflows: [numbers]\n")
            .Pipeline("limited", "name: limited\nworkflows: [slow]\ntimeout: 1s\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    async Task<(Runner Runner, IMetadataStore Store)> RunnerAsync() =>
        (new Runner(_project.Open(), await _project.StoreAsync()) { DuckDbThreads = 1 }, await _project.StoreAsync());

    [Fact]
    public async Task A_prepared_request_is_queued_then_claimed_and_executed_with_its_parameters()
    {
        var (runner, store) = await RunnerAsync();
        var prepared = runner.Prepare(new RunRequest("counting", [new("count", "5")], TriggerKind.Api));
        Assert.Equal((RunStatus.Queued, (DateTimeOffset?)null), (prepared.Status, prepared.StartedAt));
        await store.EnqueueRunAsync(prepared, new RunRequestInfo(), CancellationToken.None);
        Assert.True(await store.ClaimQueuedRunAsync(prepared.Id, NodeIdentity.Process.Owner, DateTimeOffset.UtcNow, CancellationToken.None));

        var run = (await runner.ExecuteAsync((await store.GetRunAsync(prepared.Id, CancellationToken.None))!)).Run;

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(5, (await _project.StepRunAsync(run.Id, "rows")).Rows);
        Assert.Equal(RunStatus.Succeeded, (await store.GetRunAsync(run.Id, CancellationToken.None))!.Status);
    }

    [Fact]
    public void A_bad_request_throws_before_anything_is_recorded()
    {
        var runner = new Runner(_project.Open(), new SqliteMetadataStore(Path.Combine(_project.Directory, "unused.db")));

        Assert.Contains("parameter 'count'", Assert.Throws<RunRequestException>(() => runner.Prepare(new RunRequest("counting", [new("count", "many")]))).Message);
        Assert.Contains("no pipeline or workflow named 'nope'", Assert.Throws<RunRequestException>(() => runner.Prepare(new RunRequest("nope", []))).Message);
    }

    [Fact]
    public async Task A_run_over_its_timeout_fails_saying_so_and_the_cli_path_honours_it_too()
    {
        var started = DateTimeOffset.UtcNow;

        var run = await _project.RunAsync("limited");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("timed out: the run took longer than its timeout of 1s (pipelines/limited.yaml)", run.Error);
        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_stop_from_outside_records_its_status_and_reason()
    {
        var (runner, store) = await RunnerAsync();
        var prepared = runner.Prepare(new RunRequest("slow", [], TriggerKind.Api), RunStatus.Running);
        await store.CreateRunAsync(prepared, CancellationToken.None);
        using var control = new RunControl();

        var heavy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new RecordingObserver { OnStepStarted = step => { if (step == "heavy") heavy.TrySetResult(); } };

        var execution = runner.ExecuteAsync(prepared, observer, control);
        await heavy.Task.WaitAsync(TimeSpan.FromMinutes(1)); // stopped while its step runs
        Assert.True(control.Stop(RunStatus.Failed, "interrupted: the server shut down", FailureKind.Interrupted));
        Assert.False(control.Stop(RunStatus.Cancelled, "second reason", FailureKind.Cancelled));
        var (run, failure, _) = await execution;

        Assert.Equal((RunStatus.Failed, "interrupted: the server shut down", FailureKind.Interrupted), (run.Status, run.Error, failure));
    }
}
