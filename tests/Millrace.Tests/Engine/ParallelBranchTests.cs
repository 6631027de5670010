using Millrace.Engine;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Engine;

public sealed class ParallelBranchTests : IAsyncLifetime
{
    // A few hundred milliseconds of DuckDB work: long enough for the other branch to start meanwhile.
    const string BusySql = "SELECT count(*) AS n FROM range(60000000) t(x) WHERE x % 7 = 3";

    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    void TwoBranches(int maxParallel) => _project.Workflow("wf", $"""
        name: wf
        max_parallel: {maxParallel}
        steps:
          - id: left
            type: sql
            sql: {BusySql}
          - id: right
            type: sql
            sql: {BusySql}
          - id: joined
            type: sql
            inputs: [left, right]
            sql: SELECT l.n + r.n AS total FROM "left" l, "right" r
        """);

    [Fact]
    public async Task Independent_branches_run_at_the_same_time_and_the_run_succeeds()
    {
        TwoBranches(maxParallel: 2);
        var observer = new RecordingObserver();

        var run = await _project.RunAsync(new RunRequest("wf", []), observer);

        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        var events = observer.Events.Where(e => !e.StartsWith("workflow:", StringComparison.Ordinal)).ToList();
        Assert.Equal(["start:left", "start:right"], events.Take(2).Order(StringComparer.Ordinal));
        Assert.Equal(["end:joined:Succeeded"], events.TakeLast(1));
        var steps = await _project.StepRunsAsync(run.Id);
        Assert.All(steps, s => Assert.Equal(RunStatus.Succeeded, s.Status));
        var joined = steps.Single(s => s.StepId == "joined");
        Assert.All(steps.Where(s => s.StepId != "joined"), s => Assert.True(joined.StartedAt >= s.EndedAt, $"joined started before {s.StepId} ended"));
    }

    [Fact]
    public async Task With_max_parallel_1_branches_run_one_after_the_other()
    {
        TwoBranches(maxParallel: 1);
        var observer = new RecordingObserver();

        var run = await _project.RunAsync(new RunRequest("wf", []), observer);

        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        Assert.Equal(
            ["start:left", "end:left:Succeeded", "start:right", "end:right:Succeeded", "start:joined", "end:joined:Succeeded", "workflow:wf:Succeeded"],
            observer.Events);
    }

    [Fact]
    public async Task A_failing_branch_fails_the_run_and_skips_the_steps_that_depend_on_it()
    {
        _project.Workflow("wf", """
            name: wf
            max_parallel: 2
            steps:
              - id: source
                type: sql
                sql: SELECT range AS id FROM range(10)
              - id: broken
                type: sql
                input: source
                sql: SELECT error('broken on purpose') AS x FROM source
              - id: after_broken
                type: sql
                input: broken
                sql: SELECT * FROM broken
              - id: save
                type: write
                input: after_broken
                dataset: result
            """);

        var run = await _project.RunAsync("wf");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.StartsWith("step 'broken': SQL failed", run.Error);
        var steps = (await _project.StepRunsAsync(run.Id)).ToDictionary(s => s.StepId, s => s.Status);
        Assert.Equal(RunStatus.Succeeded, steps["source"]);
        Assert.Equal(RunStatus.Failed, steps["broken"]);
        Assert.Equal(RunStatus.Skipped, steps["after_broken"]);
        Assert.Equal(RunStatus.Skipped, steps["save"]);
        Assert.Null(await _project.DatasetVersionAsync("result"));
    }

    [Fact]
    public async Task A_failing_branch_stops_a_slow_sibling_instead_of_waiting_for_it()
    {
        _project.Workflow("wf", """
            name: wf
            max_parallel: 2
            steps:
              - id: slow
                type: sql
                sql: SELECT count(*) AS n FROM range(100000000) a, range(100) b WHERE a.range + b.range > 5
              - id: broken
                type: sql
                sql: SELECT error('broken on purpose') AS x FROM range(3)
            """);

        var started = DateTimeOffset.UtcNow;
        var run = await _project.RunAsync("wf");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(20), "the failed run waited for its slow sibling");
        Assert.Contains("step 'broken'", run.Error);
        Assert.NotEqual(RunStatus.Succeeded, (await _project.StepRunAsync(run.Id, "slow")).Status);
    }
}
