using Millrace.Engine;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Engine;

public sealed class CancellationTests : IAsyncLifetime
{
    // 10^10 rows to filter: most of a minute of work unless the cancellation interrupts DuckDB. (A bare count(*) of
    // the cross join is not slow: DuckDB multiplies the sides' counts without enumerating the pairs.)
    const string SlowSql = "SELECT count(*) AS n FROM range(100000000) a, range(100) b WHERE a.range + b.range > 5";

    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("wf", $"""
            name: wf
            max_parallel: 2
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: save
                type: write
                input: customers
                dataset: customers
              - id: slow
                type: sql
                sql: {SlowSql}
            """);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    /// <summary>
    /// Runs <paramref name="target"/>, cancelling it once step <paramref name="cancelAfterStep"/> has succeeded and the
    /// slow step has started (an observed moment, not a guessed delay).
    /// </summary>
    async Task<(Run Run, TimeSpan SinceCancel)> RunAndCancelAsync(string target, string cancelAfterStep)
    {
        using var cancel = new CancellationTokenSource();
        var sinceCancel = new System.Diagnostics.Stopwatch();
        var moments = 0;
        void Reached()
        {
            if (Interlocked.Increment(ref moments) != 2) return;
            sinceCancel.Start();
            _ = Task.Run(cancel.Cancel); // off the step's thread, as Ctrl-C would come
        }
        var observer = new RecordingObserver
        {
            OnStepStarted = step => { if (step == "slow") Reached(); },
            OnStepFinished = step => { if (step.StepId == cancelAfterStep && step.Status == RunStatus.Succeeded) Reached(); },
        };
        var running = _project.RunAsync(new RunRequest(target, []), observer, cancel.Token);
        var finished = await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(finished == running, "the run did not stop within 60 s of starting; cancellation did not interrupt the step");
        var run = await running;
        return (run, sinceCancel.Elapsed);
    }

    [Fact]
    public async Task A_run_cancelled_while_a_step_runs_is_recorded_as_cancelled_and_commits_nothing()
    {
        var (run, sinceCancel) = await RunAndCancelAsync("wf", cancelAfterStep: "save");

        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.True(sinceCancel < TimeSpan.FromSeconds(10), $"the run took {sinceCancel} to stop after the cancel");
        var stored = await (await _project.StoreAsync()).GetRunAsync(run.Id, CancellationToken.None);
        Assert.Equal(RunStatus.Cancelled, stored!.Status);
        Assert.NotNull(stored.EndedAt);
        Assert.Equal(RunStatus.Succeeded, (await _project.StepRunAsync(run.Id, "save")).Status);
        Assert.Equal(RunStatus.Cancelled, (await _project.StepRunAsync(run.Id, "slow")).Status);
        Assert.Null(await _project.DatasetVersionAsync("customers"));
        Assert.Empty(_project.FilesUnder("lake/datasets"));
        var workflow = Assert.Single(await (await _project.StoreAsync()).GetWorkflowRunsAsync(run.Id, CancellationToken.None));
        Assert.Equal(RunStatus.Cancelled, workflow.Status);
        Assert.Null(workflow.CommittedAt);
    }

    [Fact]
    public async Task Cancelling_a_pipeline_keeps_what_earlier_workflows_committed()
    {
        _project.Workflow("wf", """
            name: wf
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: save
                type: write
                input: customers
                dataset: customers
            """).Workflow("slow_wf", $"""
            name: slow_wf
            steps:
              - id: marker
                type: sql
                sql: SELECT 1 AS x
              - id: slow
                type: sql
                input: marker
                sql: {SlowSql}
              - id: save_slow
                type: write
                input: slow
                dataset: slow_result
            """).Pipeline("both", """
            name: both
            workflows: [wf, slow_wf]
            """);

        var (run, _) = await RunAndCancelAsync("both", cancelAfterStep: "marker");

        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.Equal(SampleData.Customers, (await _project.DatasetVersionAsync("customers"))!.Rows);
        Assert.Null(await _project.DatasetVersionAsync("slow_result"));
        Assert.Equal(RunStatus.Skipped, (await _project.StepRunAsync(run.Id, "save_slow")).Status);
        var workflows = await (await _project.StoreAsync()).GetWorkflowRunsAsync(run.Id, CancellationToken.None);
        Assert.Equal([("wf", RunStatus.Succeeded, true), ("slow_wf", RunStatus.Cancelled, false)],
            workflows.Select(w => (w.Workflow, w.Status, w.CommittedAt is not null)));
    }
}
