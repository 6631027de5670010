using Millrace.Engine;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Engine;

/// <summary>
/// The in-process coordinator applies the pipeline's max_active against the store (waiting, or recording the request
/// skipped), and a run's failure kind says what happened without reading its error text.
/// </summary>
public sealed class RunCoordinatorTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.Workflow("totals", """
                name: totals
                steps:
                  - { id: numbers, type: sql, sql: "SELECT 1 AS n" }
                  - { id: save, type: write, input: numbers, dataset: totals }
                """)
            .Pipeline("daily", "workflows: [totals]\nconcurrency: { max_active: 1 }\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    async Task<(InProcessRunCoordinator Coordinator, IMetadataStore Store)> CoordinatorAsync()
    {
        var project = _project.Open();
        var store = await _project.StoreAsync();
        return (new InProcessRunCoordinator(new Runner(project, store) { DuckDbThreads = 1 }, project, store) { PollInterval = TimeSpan.FromMilliseconds(50) }, store);
    }

    /// <summary>A run of the pipeline recorded Running by another (live) process: this one's owner, so recovery leaves it.</summary>
    async Task<Run> RunningElsewhereAsync(InProcessRunCoordinator coordinator, IMetadataStore store)
    {
        var running = coordinator.Runner.Prepare(new RunRequest("daily", [], TriggerKind.Api), RunStatus.Running);
        return await store.CreateRunAsync(running, NodeIdentity.Process.Owner, CancellationToken.None);
    }

    [Fact]
    public async Task A_request_not_to_wait_for_a_busy_pipeline_is_recorded_skipped()
    {
        var (coordinator, store) = await CoordinatorAsync();
        await RunningElsewhereAsync(coordinator, store);

        var result = await coordinator.SubmitAsync(new RunRequest("daily", []), new RunRequestInfo(), new SubmitOptions(Wait: false), CancellationToken.None);

        Assert.Equal((RunStatus.Skipped, FailureKind.Skipped), (result.Run.Status, result.Failure));
        Assert.Contains("concurrency: max_active 1", result.Run.Error, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Skipped, (await store.GetRunAsync(result.Run.Id, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task A_request_for_a_busy_pipeline_waits_and_runs_once_the_running_run_ends()
    {
        var (coordinator, store) = await CoordinatorAsync();
        var other = await RunningElsewhereAsync(coordinator, store);
        var waiting = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

        var submitted = coordinator.SubmitAsync(new RunRequest("daily", []), new RunRequestInfo(), new SubmitOptions(Waiting: (_, running) => waiting.TrySetResult(running)), CancellationToken.None);
        Assert.Equal(1, await waiting.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(submitted.IsCompleted);

        var ended = DateTimeOffset.UtcNow;
        Assert.True(await store.FinishRunAsync(other with { Status = RunStatus.Succeeded, EndedAt = ended }, CancellationToken.None));
        var result = await submitted.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(RunStatus.Succeeded, result.Run.Status);
        Assert.Null(result.Failure);
        Assert.True(result.Run.StartedAt >= ended);
    }

    [Fact]
    public async Task A_run_that_loses_its_commit_to_another_run_fails_with_the_kind_conflict()
    {
        var project = _project.Open();
        var store = await _project.StoreAsync();
        var runner = new Runner(project, store) { DuckDbThreads = 1 };
        // While this run's steps are done and its commit not yet made, another run commits the same dataset first.
        var observer = new CommitFirst(() => new Runner(project, store) { DuckDbThreads = 1 }.RunAsync(new RunRequest("totals", [])));
        var run = runner.Prepare(new RunRequest("totals", []), RunStatus.Running);
        await runner.RecordAsync(run, null, CancellationToken.None);

        var result = await runner.ExecuteAsync(run, observer);

        Assert.Equal(RunStatus.Succeeded, (await observer.Other!).Status);
        Assert.Equal((RunStatus.Failed, FailureKind.Conflict), (result.Run.Status, result.Failure));
    }

    sealed class CommitFirst(Func<Task<Run>> other) : IRunObserver
    {
        public Task<Run>? Other { get; private set; }

        public void StepFinished(StepRun stepRun)
        {
            if (stepRun.StepId != "save" || Other is not null || stepRun.Status != RunStatus.Succeeded) return;
            Other = other();
            Other.GetAwaiter().GetResult();
        }
    }
}
