using Millrace.Storage;
using Millrace.Tests.TestSupport;
using static Millrace.Tests.Quality.QualityProject;

namespace Millrace.Tests.Quality;

/// <summary>
/// The batch rules of the check step — rows and freshness — judge the whole batch: a failure is one anomaly for the
/// batch, and under quarantine the whole batch is quarantined. Freshness is measured from the end of run.date, so a
/// backfill judges each day by its own date.
/// </summary>
public sealed class CheckBatchRuleTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    const string Three = "id,updated_at\n1,2026-03-08 08:00:00\n2,2026-03-09 12:00:00\n3,2026-03-07 23:00:00\n";

    [Fact]
    public async Task Rows_fails_a_batch_smaller_than_min()
    {
        _project.CheckWorkflow(Three, "rows: { min: 5 }", "warn");

        var run = await _project.RunOkAsync();

        var anomaly = await _project.SingleAnomalyAsync(run.Id, "expectation");
        Assert.Equal("rows: the batch has 3 row(s), expected at least 5", anomaly.Message);
        var details = DetailsOf(anomaly);
        Assert.Equal(("rows", 3L, 3L), (details.GetProperty("rule").GetString(), details.GetProperty("failing_rows").GetInt64(), details.GetProperty("batch_rows").GetInt64()));
        Assert.Equal(3, _project.Passed().Count); // warn: the rows pass on
    }

    [Fact]
    public async Task Rows_fails_a_batch_larger_than_max()
    {
        _project.CheckWorkflow(Three, "rows: { min: 1, max: 2 }", "fail");

        var run = await _project.RunAsync("ingest");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("rows: the batch has 3 row(s), expected at least 1 and at most 2", (await _project.StepRunAsync(run.Id, "checked")).Error);
    }

    [Fact]
    public async Task Rows_passes_a_batch_within_the_bounds_including_them()
    {
        _project.CheckWorkflow(Three, "rows: { min: 3, max: 3 }", "fail");

        var run = await _project.RunOkAsync();

        Assert.Empty(await _project.AnomaliesOfAsync(run.Id));
    }

    [Fact]
    public async Task Rows_min_fails_an_empty_batch()
    {
        _project.CheckWorkflow("id,updated_at\n", "rows: { min: 1 }", "fail", schema: "{ id: BIGINT, updated_at: TIMESTAMP }");

        var run = await _project.RunAsync("ingest");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("the batch has 0 row(s), expected at least 1", run.Error);
    }

    [Fact]
    public async Task A_failed_batch_rule_under_quarantine_quarantines_the_whole_batch()
    {
        _project.CheckWorkflow(Three, "rows: { min: 10 }\nnot_null: [id]", "quarantine");

        var run = await _project.RunOkAsync();

        var quarantined = _project.QueryLake("SELECT id, _reason FROM {file} ORDER BY id", $"quarantine/checked/{run.Id}/checked.parquet");
        Assert.Equal([(1L, "rows"), (2L, "rows"), (3L, "rows")], quarantined.Select(r => (Long(r[0]), (string)r[1]!)));
        Assert.Empty(_project.Passed());
        var details = await _project.StepDetailsAsync(run.Id, "checked");
        Assert.Equal((3, 0, 3), (details.GetProperty("batch_rows").GetInt64(), details.GetProperty("passed_rows").GetInt64(), details.GetProperty("quarantined_rows").GetInt64()));
    }

    [Theory]
    [InlineData("2026-03-09", "1d", true)]   // newest 03-09 12:00 is 12h before the end of 03-09
    [InlineData("2026-03-10", "1d", false)]  // 36h before the end of 03-10
    [InlineData("2026-03-10", "36h", true)]  // exactly the limit is still fresh
    [InlineData("2026-03-12", "3d", false)]  // 84h
    [InlineData("2026-03-12", "4d", true)]
    public async Task Freshness_measures_the_newest_value_from_the_end_of_run_date(string runDate, string maxAge, bool fresh)
    {
        _project.CheckWorkflow(Three, $"freshness: {{ column: updated_at, max_age: {maxAge} }}", "warn");

        var run = await _project.RunOkAsync("ingest", ("run.date", runDate));

        var anomalies = await _project.AnomaliesOfAsync(run.Id);
        if (fresh) Assert.Empty(anomalies);
        else
        {
            var anomaly = Assert.Single(anomalies);
            Assert.Equal("freshness(updated_at)", DetailsOf(anomaly).GetProperty("rule").GetString());
            Assert.Equal("updated_at", DetailsOf(anomaly).GetProperty("column").GetString());
            var end = DateOnly.Parse(runDate, System.Globalization.CultureInfo.InvariantCulture).AddDays(1);
            Assert.Equal($"freshness(updated_at): newest value 2026-03-09 12:00:00Z is older than {maxAge} before the end of run.date {runDate} ({end:yyyy-MM-dd} 00:00)", anomaly.Message);
        }
    }

    [Fact]
    public async Task Freshness_of_a_date_column_counts_from_midnight()
    {
        _project.CheckWorkflow("id,day\n1,2026-03-01\n2,2026-03-05\n", "freshness: { column: day, max_age: 2d }", "warn");

        var fresh = await _project.RunOkAsync("ingest", ("run.date", "2026-03-06"));  // 03-05 00:00 is 2d before 03-07 00:00
        var stale = await _project.RunOkAsync("ingest", ("run.date", "2026-03-07"));

        Assert.Empty(await _project.AnomaliesOfAsync(fresh.Id));
        Assert.Single(await _project.AnomaliesOfAsync(stale.Id));
    }

    [Fact]
    public async Task Freshness_fails_an_empty_batch_and_quarantine_then_has_nothing_to_write()
    {
        _project.CheckWorkflow("id,updated_at\n", "freshness: { column: updated_at, max_age: 1d }", "quarantine", schema: "{ id: BIGINT, updated_at: TIMESTAMP }");

        var run = await _project.RunOkAsync("ingest", ("run.date", "2026-03-09"));

        Assert.Contains("newest value none", (await _project.SingleAnomalyAsync(run.Id)).Message);
        Assert.Empty(_project.QuarantineFiles());
    }

    [Fact]
    public async Task Stale_batch_under_quarantine_is_quarantined_whole()
    {
        _project.CheckWorkflow(Three, "freshness: { column: updated_at, max_age: 1d }", "quarantine");

        var run = await _project.RunOkAsync("ingest", ("run.date", "2026-03-20"));

        Assert.Equal(3L, Long(_project.QueryLake("SELECT count(*) FROM {file} WHERE _reason = 'freshness(updated_at)'", $"quarantine/checked/{run.Id}/checked.parquet")[0][0]));
        Assert.Empty(_project.Passed());
    }
}
