using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Engine;

/// <summary>
/// Skip what is up to date: a workflow whose inputs are those of its last successful run is recorded up to date and
/// not run; every change that would change its outputs makes it run.
/// </summary>
public sealed class MemoTests : IAsyncLifetime
{
    readonly TestProject _project = new();
    static readonly CancellationToken None = CancellationToken.None;

    const string Ingest = """
        name: ingest
        parameters:
          region: { default: north }
        steps:
          - id: raw
            type: read
            path: raw/orders/*.csv
          - id: regional
            type: sql
            inputs: [raw]
            sql: SELECT *, $region AS region FROM raw
          - id: save
            type: write
            input: regional
            dataset: orders
        """;

    public Task InitializeAsync()
    {
        _project.Workflow("ingest", Ingest).Workflow("totals", """
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
            """).Pipeline("daily", "name: daily\nworkflows: [ingest, totals]\n")
            .LakeFile("raw/orders/a.csv", "id,amount\n1,10\n2,20\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    async Task<Run> RunAsync(string target, params (string, string)[] variables)
    {
        var run = await _project.RunAsync(target, variables);
        Assert.True(run.Status.IsSuccess(), run.Error);
        return run;
    }

    async Task<RunStatus> WorkflowStatusAsync(Run run, string workflow) =>
        (await (await _project.StoreAsync()).GetWorkflowRunsAsync(run.Id, None)).Single(w => w.Workflow == workflow).Status;

    async Task<string> LogAsync(Run run) => string.Join("\n", (await (await _project.StoreAsync()).GetLogsAsync(run.Id, None)).Select(l => l.Message));

    [Fact]
    public async Task A_workflow_with_the_same_inputs_is_up_to_date_and_not_run_again()
    {
        var first = await RunAsync("ingest");
        var second = await RunAsync("ingest");

        Assert.Equal(RunStatus.Succeeded, first.Status);
        Assert.Equal(RunStatus.UpToDate, second.Status);
        Assert.Equal(RunStatus.UpToDate, await WorkflowStatusAsync(second, "ingest"));
        Assert.All(await _project.StepRunsAsync(second.Id), s => Assert.Equal(RunStatus.UpToDate, s.Status));
        Assert.Equal(1, (await _project.DatasetVersionAsync("orders"))!.Version);
        var fingerprint = Assert.Single(await (await _project.StoreAsync()).GetFingerprintsAsync(second.Id, None));
        Assert.Equal(first.Id, fingerprint.SameAsRunId);
        Assert.Contains($"workflow 'ingest' is up to date (same inputs as run {first.Id})", await LogAsync(second), StringComparison.Ordinal);
        // A third run still finds the run that made the outputs, not the up-to-date one.
        Assert.Equal(first.Id, (await (await _project.StoreAsync()).GetFingerprintsAsync((await RunAsync("ingest")).Id, None)).Single().SameAsRunId);
    }

    [Fact]
    public async Task A_new_file_that_landed_makes_it_run()
    {
        await RunAsync("ingest");
        _project.LakeFile("raw/orders/b.csv", "id,amount\n3,30\n");

        var second = await RunAsync("ingest");

        Assert.Equal(RunStatus.Succeeded, second.Status);
        Assert.Equal(2, (await _project.DatasetVersionAsync("orders"))!.Version);
        Assert.Contains("files of step raw: 2 files, was 1 files", await LogAsync(second), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_rewritten_in_place_makes_it_run()
    {
        await RunAsync("ingest");
        _project.LakeFile("raw/orders/a.csv", "id,amount\n1,10\n2,25\n3,30\n");

        Assert.Equal(RunStatus.Succeeded, (await RunAsync("ingest")).Status);
        Assert.Equal(3L, (await _project.DatasetVersionAsync("orders"))!.Rows);
    }

    [Fact]
    public async Task A_dataset_changed_by_another_pipeline_makes_its_readers_run()
    {
        await RunAsync("daily");
        var unchanged = await RunAsync("totals");
        Assert.Equal(RunStatus.UpToDate, unchanged.Status);

        _project.LakeFile("raw/orders/b.csv", "id,amount\n3,30\n");
        await RunAsync("ingest"); // orders v2, written outside the daily pipeline
        var totals = await RunAsync("totals");

        Assert.Equal(RunStatus.Succeeded, totals.Status);
        Assert.Contains("dataset orders: v2, was v1", await LogAsync(totals), StringComparison.Ordinal);
        Assert.Equal([[3L]], await _project.QueryDatasetAsync("order_totals", "SELECT n FROM {dataset}"));
    }

    [Fact]
    public async Task Edited_definitions_make_it_run()
    {
        await RunAsync("ingest");
        _project.Workflow("ingest", Ingest.Replace("SELECT *, $region AS region FROM raw", "SELECT *, upper($region) AS region FROM raw", StringComparison.Ordinal));

        var edited = await RunAsync("ingest");

        Assert.Equal(RunStatus.Succeeded, edited.Status);
        Assert.Contains("the workflow file changed", await LogAsync(edited), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_different_var_makes_it_run_and_the_same_var_again_does_not()
    {
        await RunAsync("ingest");

        var south = await RunAsync("ingest", ("region", "south"));
        var southAgain = await RunAsync("ingest", ("region", "south"));

        Assert.Equal(RunStatus.Succeeded, south.Status);
        Assert.Contains("parameter region: south, was north", await LogAsync(south), StringComparison.Ordinal);
        Assert.Equal(RunStatus.UpToDate, southAgain.Status);
    }

    [Fact]
    public async Task Run_date_counts_only_for_workflows_that_use_it()
    {
        _project.Workflow("dated", """
            name: dated
            steps:
              - id: raw
                type: read
                path: raw/orders/*.csv
              - id: stamped
                type: sql
                inputs: [raw]
                sql: SELECT *, ${run.date} AS as_of FROM raw
              - id: save
                type: write
                input: stamped
                dataset: dated_orders
            """);
        await RunAsync("ingest", ("run.date", "2026-01-01"));
        await RunAsync("dated", ("run.date", "2026-01-01"));

        Assert.Equal(RunStatus.UpToDate, (await RunAsync("ingest", ("run.date", "2026-01-02"))).Status);
        var nextDay = await RunAsync("dated", ("run.date", "2026-01-02"));
        Assert.Equal(RunStatus.Succeeded, nextDay.Status);
        Assert.Contains("parameter run.date: 2026-01-02, was 2026-01-01", await LogAsync(nextDay), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Memo_false_runs_the_workflow_every_time()
    {
        _project.Workflow("ingest", "memo: false\n" + Ingest);
        await RunAsync("ingest");

        var again = await RunAsync("ingest");

        Assert.Equal(RunStatus.Succeeded, again.Status);
        Assert.Equal(2, (await _project.DatasetVersionAsync("orders"))!.Version);
        Assert.Empty(await (await _project.StoreAsync()).GetFingerprintsAsync(again.Id, None));
    }

    [Fact]
    public async Task A_pipeline_run_is_up_to_date_only_when_all_its_workflows_were()
    {
        await RunAsync("daily");
        var unchanged = await RunAsync("daily");
        _project.Workflow("totals", """
            name: totals
            steps:
              - id: total
                type: sql
                inputs: [orders]
                sql: SELECT count(*) AS n, sum(amount) AS amount FROM orders
              - id: save
                type: write
                input: total
                dataset: order_totals
            """);
        var partly = await RunAsync("daily");

        Assert.Equal(RunStatus.UpToDate, unchanged.Status);
        Assert.Equal(RunStatus.Succeeded, partly.Status);
        Assert.Equal(RunStatus.UpToDate, await WorkflowStatusAsync(partly, "ingest"));
        Assert.Equal(RunStatus.Succeeded, await WorkflowStatusAsync(partly, "totals"));
    }

    [Fact]
    public async Task Stale_outputs_are_never_up_to_date()
    {
        var first = await RunAsync("daily");
        var store = await _project.StoreAsync();
        Assert.Single(await store.MarkStaleAsync(first.ProjectId, "daily", first.RunDate, "the upstream system corrected its orders", None));

        var rerun = await _project.SubmitAsync("daily", ("run.date", first.RunDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)));

        Assert.Equal(RunStatus.Succeeded, rerun.Run.Status);
        Assert.Contains($"same inputs as run {first.Id}, but its outputs are stale: the upstream system corrected its orders", await LogAsync(rerun.Run), StringComparison.Ordinal);
        Assert.Empty(await store.GetOpenStaleMarksAsync([first.Id], None));
    }

    [Fact]
    [Trait("Category", "Security")]
    public async Task A_producer_rewriting_a_file_to_the_same_size_is_noticed_by_its_time()
    {
        await RunAsync("ingest");
        var path = _project.LakePath("raw/orders/a.csv");
        var before = File.GetLastWriteTimeUtc(path);
        _project.LakeFile("raw/orders/a.csv", "id,amount\n1,10\n2,99\n"); // same length, other content
        File.SetLastWriteTimeUtc(path, before.AddSeconds(1));

        Assert.Equal(RunStatus.Succeeded, (await RunAsync("ingest")).Status);
        Assert.Equal([[99L]], await _project.QueryDatasetAsync("orders", "SELECT amount FROM {dataset} WHERE id = 2"));
    }

    [Fact]
    [Trait("Category", "Security")]
    public async Task An_environment_value_a_workflow_uses_is_kept_only_as_a_hash()
    {
        const string Secret = "s3cr3t-memo-token-value";
        Environment.SetEnvironmentVariable("MILLRACE_MEMO_TEST_SECRET", Secret);
        try
        {
            _project.Workflow("ingest", Ingest.Replace("$region AS region", "$region AS region, length('${env:MILLRACE_MEMO_TEST_SECRET}') AS n", StringComparison.Ordinal));
            var run = await RunAsync("ingest");
            var fingerprint = Assert.Single(await (await _project.StoreAsync()).GetFingerprintsAsync(run.Id, None));
            Assert.DoesNotContain(Secret, fingerprint.InputsJson, StringComparison.Ordinal);
            Assert.Contains("\"env:MILLRACE_MEMO_TEST_SECRET\":\"sha256:", fingerprint.InputsJson, StringComparison.Ordinal);
            Assert.Equal(RunStatus.UpToDate, (await RunAsync("ingest")).Status);
            Environment.SetEnvironmentVariable("MILLRACE_MEMO_TEST_SECRET", Secret + "-rotated");
            Assert.Equal(RunStatus.Succeeded, (await RunAsync("ingest")).Status);
        }
        finally
        {
            Environment.SetEnvironmentVariable("MILLRACE_MEMO_TEST_SECRET", null);
        }
    }
}
