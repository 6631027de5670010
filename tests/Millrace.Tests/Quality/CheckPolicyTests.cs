using Millrace.Storage;
using Millrace.Tests.TestSupport;
using static Millrace.Tests.Quality.QualityProject;

namespace Millrace.Tests.Quality;

/// <summary>
/// The three policies of a failed check: warn passes every row on with a warning, quarantine writes the failing
/// rows (all of them, with their reason) to quarantine/ when the run commits and passes the good rows on, fail stops
/// the run with a clear message and an Error anomaly.
/// </summary>
public sealed class CheckPolicyTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    /// <summary>1000 orders; every 7th has no customer (142 rows) and every 50th a negative amount (20 rows, 2 of them also without customer).</summary>
    static string Orders(int rows = 1000)
    {
        var csv = new System.Text.StringBuilder("id,customer_id,amount\n");
        for (var i = 1; i <= rows; i++) csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i},{(i % 7 == 0 ? "" : (i % 13).ToString(System.Globalization.CultureInfo.InvariantCulture))},{(i % 50 == 0 ? -1 : i)}\n");
        return csv.ToString();
    }

    static readonly long[] BadIds = Enumerable.Range(1, 1000).Where(i => i % 7 == 0 || i % 50 == 0).Select(i => (long)i).ToArray();

    const string Rules = "not_null: [customer_id]\nrange: { column: amount, min: 0 }";

    [Fact]
    public async Task Warn_passes_every_row_on_and_records_a_warning_per_failed_rule()
    {
        _project.CheckWorkflow(Orders(), Rules, "warn");

        var run = await _project.RunOkAsync();

        Assert.Equal(1000, Long(_project.Passed("SELECT count(*) FROM {file}")[0][0]));
        var anomalies = await _project.AnomaliesOfAsync(run.Id);
        Assert.Equal(2, anomalies.Count);
        Assert.All(anomalies, a => Assert.Equal(("expectation", AnomalySeverity.Warning, "warn"), (a.Kind, a.Severity, a.Policy)));
        Assert.Equal([20L, 142L], anomalies.Select(a => DetailsOf(a).GetProperty("failing_rows").GetInt64()).Order());
        Assert.Empty(_project.QuarantineFiles());
        var details = await _project.StepDetailsAsync(run.Id, "checked");
        Assert.Equal((1000, 0), (details.GetProperty("passed_rows").GetInt64(), details.GetProperty("quarantined_rows").GetInt64()));
        Assert.Equal(1000, (await _project.StepRunAsync(run.Id, "checked")).Rows);
    }

    [Fact]
    public async Task Quarantine_keeps_every_bad_row_with_its_reason_and_passes_the_good_rows_on()
    {
        _project.CheckWorkflow(Orders(), Rules, "quarantine");

        var run = await _project.RunOkAsync();

        var file = $"quarantine/checked/{run.Id}/checked.parquet";
        Assert.Equal([file], _project.QuarantineFiles());
        // Every bad row, not just the examples: 142 + 20 - 2 rows that fail both.
        var quarantined = _project.QueryLake("SELECT id, customer_id, amount, _reason FROM {file} ORDER BY id", file);
        Assert.Equal(160, BadIds.Length);
        Assert.Equal(BadIds, quarantined.Select(r => Long(r[0])));
        Assert.Equal(["id", "customer_id", "amount", "_reason"], _project.QueryLake("SELECT column_name FROM (DESCRIBE SELECT * FROM {file})", file).Select(r => (string)r[0]!));
        Assert.Equal("not_null(customer_id)", quarantined.Single(r => Long(r[0]) == 7)[3]);
        Assert.Equal("range(amount, 0..inf)", quarantined.Single(r => Long(r[0]) == 50)[3]);
        Assert.Equal("not_null(customer_id); range(amount, 0..inf)", quarantined.Single(r => Long(r[0]) == 350)[3]);

        var passed = _project.Passed().Select(r => Long(r[0])).ToList();
        Assert.Equal(840, passed.Count);
        Assert.Empty(passed.Intersect(BadIds));
        var details = await _project.StepDetailsAsync(run.Id, "checked");
        Assert.Equal((1000, 840, 160, file), (details.GetProperty("batch_rows").GetInt64(), details.GetProperty("passed_rows").GetInt64(), details.GetProperty("quarantined_rows").GetInt64(), details.GetProperty("quarantine").GetString()));
        Assert.All(await _project.AnomaliesOfAsync(run.Id), a => Assert.Equal(("quarantine", AnomalySeverity.Warning), (a.Policy, a.Severity)));
        Assert.Empty(_project.FilesUnder("lake/_staging"));
    }

    [Fact]
    public async Task Quarantine_folder_is_named_by_the_quarantine_option()
    {
        _project.CheckWorkflow(Orders(100), Rules, "quarantine", extra: "quarantine: orders");

        var run = await _project.RunOkAsync();

        Assert.Equal([$"quarantine/orders/{run.Id}/checked.parquet"], _project.QuarantineFiles());
    }

    [Fact]
    public async Task Quarantine_writes_nothing_when_the_run_fails_after_the_check()
    {
        _project.CheckWorkflow(Orders(100), Rules, "quarantine", after: """
            - id: boom
              type: sql
              inputs: [out]
              sql: SELECT error('a later step fails') AS x
            """);

        var run = await _project.RunAsync("ingest");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal(RunStatus.Succeeded, (await _project.StepRunAsync(run.Id, "checked")).Status);
        Assert.Empty(_project.QuarantineFiles());
        Assert.Empty(_project.FilesUnder("lake/_staging"));
        Assert.False(File.Exists(_project.LakePath("out/passed.parquet")));
        // The anomalies are the audit trail: they stay, even though the run did not commit.
        Assert.Equal(2, (await _project.AnomaliesOfAsync(run.Id)).Count);
    }

    [Fact]
    public async Task Quarantine_with_nothing_failing_writes_no_file()
    {
        _project.CheckWorkflow("id,customer_id,amount\n1,1,1\n2,2,2\n", Rules, "quarantine");

        var run = await _project.RunOkAsync();

        Assert.Empty(_project.QuarantineFiles());
        Assert.Empty(await _project.AnomaliesOfAsync(run.Id));
        Assert.Equal([1L, 2L], _project.Passed().Select(r => Long(r[0])));
    }

    [Fact]
    public async Task Fail_stops_the_run_with_a_clear_message_and_an_error_anomaly()
    {
        _project.CheckWorkflow(Orders(100), Rules, "fail");

        var run = await _project.RunAsync("ingest");

        Assert.Equal(RunStatus.Failed, run.Status);
        var step = await _project.StepRunAsync(run.Id, "checked");
        Assert.Equal(RunStatus.Failed, step.Status);
        Assert.Equal("2 expectation(s) failed: not_null(customer_id): 14 of 100 row(s) fail; range(amount, 0..inf): 2 of 100 row(s) fail", step.Error);
        Assert.Contains("step 'checked': 2 expectation(s) failed", run.Error);
        var anomalies = await _project.AnomaliesOfAsync(run.Id);
        Assert.Equal(2, anomalies.Count);
        Assert.All(anomalies, a => Assert.Equal(("expectation", AnomalySeverity.Error, "fail"), (a.Kind, a.Severity, a.Policy)));
        Assert.Equal(RunStatus.Skipped, (await _project.StepRunAsync(run.Id, "out")).Status);
        Assert.False(File.Exists(_project.LakePath("out/passed.parquet")));
        Assert.Empty(_project.QuarantineFiles());
    }

    [Fact]
    public async Task Fail_is_the_default_policy()
    {
        _project.CheckWorkflow(Orders(100), Rules, "fail");
        _project.Workflow("ingest", File.ReadAllText(Path.Combine(_project.Directory, "workflows/ingest.yaml")).Replace("    on_failure: fail\n", "", StringComparison.Ordinal));
        Assert.DoesNotContain("on_failure", File.ReadAllText(Path.Combine(_project.Directory, "workflows/ingest.yaml")));

        var run = await _project.RunAsync("ingest");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.All(await _project.AnomaliesOfAsync(run.Id), a => Assert.Equal(AnomalySeverity.Error, a.Severity));
    }

    [Fact]
    public async Task A_quarantine_check_feeds_only_good_rows_to_a_merge()
    {
        _project.CheckWorkflow(Orders(100), Rules, "quarantine", after: """
            - id: history
              type: merge
              input: checked
              into: orders
              key: [id]
            """);

        var run = await _project.RunOkAsync();

        var version = await _project.DatasetVersionAsync("orders");
        Assert.Equal(100 - BadIds.Count(i => i <= 100), version!.Rows);
        Assert.Equal(0L, Long((await _project.QueryDatasetAsync("orders", "SELECT count(*) FROM {dataset} WHERE customer_id IS NULL OR amount < 0"))[0][0]));
        Assert.Equal(BadIds.Count(i => i <= 100), Long(_project.QueryLake("SELECT count(*) FROM {file}", $"quarantine/checked/{run.Id}/checked.parquet")[0][0]));
    }
}
