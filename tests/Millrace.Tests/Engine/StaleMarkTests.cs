using Millrace.Engine;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Engine;

/// <summary>
/// Stale marks through the run coordinator: a failed rerun of a stale date leaves its marks, a successful one clears
/// them once, and a mark made while the rerun ran stays.
/// </summary>
public sealed class StaleMarkTests : IAsyncLifetime
{
    static readonly CancellationToken None = CancellationToken.None;
    static readonly DateOnly Date = new(2026, 1, 2);
    readonly TestProject _project = new();

    const string Totals = """
        name: totals
        steps:
          - id: total
            type: sql
            inputs: [orders]
            sql: SELECT count(*) AS n FROM orders
          - id: save
            type: write
            input: total
            dataset: order_totals
        """;

    public Task InitializeAsync()
    {
        _project.Workflow("ingest", """
            name: ingest
            steps:
              - { id: raw, type: read, path: "raw/orders/*.csv" }
              - { id: save, type: write, input: raw, dataset: orders }
            """).Workflow("totals", Totals).Pipeline("daily", "name: daily\nworkflows: [ingest, totals]\n")
            .LakeFile("raw/orders/a.csv", "id,amount\n1,10\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    Task<RunResult> RunDailyAsync() => _project.SubmitAsync("daily", ("run.date", "2026-01-02"));

    [Fact]
    public async Task A_failed_rerun_keeps_the_marks_and_a_successful_one_clears_them()
    {
        var first = (await RunDailyAsync()).Run;
        var store = await _project.StoreAsync();
        await store.MarkStaleAsync(first.ProjectId, "daily", Date, "late file raw/orders/b.csv", None);
        _project.LakeFile("raw/orders/b.csv", "id,amount\n2,20\n");
        _project.Workflow("totals", Totals.Replace("count(*) AS n", "count(no_such_column) AS n", StringComparison.Ordinal));

        var failed = (await RunDailyAsync()).Run;

        Assert.Equal(RunStatus.Failed, failed.Status);
        var kept = Assert.Single(await store.ListStaleAsync(first.ProjectId, "daily", Date, Date, None));
        Assert.True(kept.Open);
        Assert.Equal(first.Id, kept.RunId);
        Assert.Equal([1], (await store.GetStaleDatasetVersionsAsync("orders", None)).Keys);

        _project.Workflow("totals", Totals);
        var fixedRun = (await RunDailyAsync()).Run;

        Assert.Equal(RunStatus.Succeeded, fixedRun.Status);
        var cleared = Assert.Single(await store.ListStaleAsync(first.ProjectId, "daily", Date, Date, None));
        Assert.Equal((false, fixedRun.Id), (cleared.Open, cleared.ClearedByRunId));
        Assert.Empty(await store.GetStaleDatasetVersionsAsync("orders", None));
        Assert.Contains((await store.GetLogsAsync(fixedRun.Id, None)).Select(l => l.Message),
            m => m == "cleared 1 stale mark(s) of 'daily' for 2026-01-02: this run's outputs replace them");
    }

    [Fact]
    public async Task A_run_of_another_date_or_a_single_workflow_clears_nothing()
    {
        var first = (await RunDailyAsync()).Run;
        var store = await _project.StoreAsync();
        await store.MarkStaleAsync(first.ProjectId, "daily", Date, "corrected", None);

        Assert.True((await _project.SubmitAsync("daily", ("run.date", "2026-01-03"))).Run.Status.IsSuccess());
        Assert.True((await _project.SubmitAsync("totals", ("run.date", "2026-01-02"))).Run.Status.IsSuccess());

        Assert.True(Assert.Single(await store.ListStaleAsync(first.ProjectId, null, null, null, None)).Open);
    }
}
