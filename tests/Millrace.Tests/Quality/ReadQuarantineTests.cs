using Millrace.Storage;
using Millrace.Tests.TestSupport;
using static Millrace.Tests.Quality.QualityProject;

namespace Millrace.Tests.Quality;

/// <summary>
/// A read with <c>on_error: quarantine</c>: malformed CSV rows go to quarantine/ with their file, line and reason, the
/// good rows go on, and a <c>corrupt_rows</c> anomaly is recorded. Every row is accounted for, so an incremental read
/// watermarks the file; under the default (fail) the run fails and the watermark stays where it was.
/// </summary>
public sealed class ReadQuarantineTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    // Line 4: not a number; line 6: a field too many; line 8: a field too few. Five good rows.
    const string Day1 = "order_id,amount\n1,10\n2,20\nthree,30\n4,40\n5,50,extra\n6,60\n7\n";

    void Ingest(string options = "on_error: quarantine", bool incremental = false) => _project.Workflow("ingest", $"""
        name: ingest
        steps:
          - id: orders
            type: read
            path: raw/orders/*.csv
            schema: {"{"} order_id: BIGINT, amount: DOUBLE {"}"}
            incremental: {(incremental ? "true" : "false")}
        {LearningProject.Indent(options, "    ")}
          - id: history
            type: write
            input: orders
            dataset: orders
            mode: append
        """);

    async Task<IReadOnlyList<long>> StoredIdsAsync() =>
        (await _project.QueryDatasetAsync("orders", "SELECT order_id FROM {dataset} ORDER BY order_id")).Select(r => Long(r[0])).ToList();

    [Fact]
    public async Task Malformed_rows_are_quarantined_with_file_line_and_reason_and_the_good_rows_go_on()
    {
        _project.LakeFile("raw/orders/day1.csv", Day1);
        Ingest();

        var run = await _project.RunOkAsync();

        Assert.Equal([1L, 2L, 4L, 6L], await StoredIdsAsync());
        var file = $"quarantine/orders/{run.Id}/orders.parquet";
        Assert.Equal([file], _project.QuarantineFiles());
        var rows = _project.QueryLake("SELECT file, line, original_line, _reason FROM {file} ORDER BY line", file);
        Assert.Equal([("raw/orders/day1.csv", 4L, "three,30"), ("raw/orders/day1.csv", 6L, "5,50,extra"), ("raw/orders/day1.csv", 8L, "7")],
            rows.Select(r => ((string)r[0]!, Long(r[1]), (string)r[2]!)));
        Assert.Contains("order_id", (string)rows[0][3]!);
        Assert.Contains("Could not convert string \"three\" to 'BIGINT'", (string)rows[0][3]!);
        Assert.Contains("Expected Number of Columns: 2 Found: 3", (string)rows[1][3]!);
        Assert.Contains("Expected Number of Columns: 2 Found: 1", (string)rows[2][3]!);

        var anomaly = await _project.SingleAnomalyAsync(run.Id);
        Assert.Equal(("corrupt_rows", AnomalySeverity.Warning, "quarantine", "orders"), (anomaly.Kind, anomaly.Severity, anomaly.Policy, anomaly.StepId));
        Assert.StartsWith($"3 malformed row(s) quarantined to {file}, e.g. raw/orders/day1.csv line 4: ", anomaly.Message);
        var details = DetailsOf(anomaly);
        Assert.Equal((3, file), (details.GetProperty("rows").GetInt64(), details.GetProperty("quarantine").GetString()));
        Assert.Equal(3, details.GetProperty("examples").GetArrayLength());
        var step = await _project.StepDetailsAsync(run.Id, "orders");
        Assert.Equal(3, step.GetProperty("rejected_rows").GetInt64());
        Assert.Equal(4, (await _project.StepRunAsync(run.Id, "orders")).Rows);
    }

    [Fact]
    public async Task Quarantine_keeps_every_malformed_row_of_every_file()
    {
        var big = new System.Text.StringBuilder("order_id,amount\n");
        for (var i = 1; i <= 500; i++) big.Append(i % 25 == 0 ? $"{i},oops\n" : $"{i},{i}\n");
        _project.LakeFile("raw/orders/a.csv", big.ToString()).LakeFile("raw/orders/b.csv", Day1);
        Ingest();

        var run = await _project.RunOkAsync();

        var rows = _project.QueryLake("SELECT file, count(*) FROM {file} GROUP BY file ORDER BY file", $"quarantine/orders/{run.Id}/orders.parquet");
        Assert.Equal([("raw/orders/a.csv", 20L), ("raw/orders/b.csv", 3L)], rows.Select(r => ((string)r[0]!, Long(r[1]))));
        Assert.Equal(480 + 4, (await StoredIdsAsync()).Count);
        Assert.Contains("23 malformed row(s)", (await _project.SingleAnomalyAsync(run.Id)).Message);
    }

    [Fact]
    public async Task A_clean_file_under_quarantine_records_nothing()
    {
        _project.LakeFile("raw/orders/day1.csv", "order_id,amount\n1,10\n2,20\n");
        Ingest();

        var run = await _project.RunOkAsync();

        Assert.Empty(_project.QuarantineFiles());
        Assert.Empty(await _project.AnomaliesOfAsync(run.Id));
        Assert.Equal(0, (await _project.StepDetailsAsync(run.Id, "orders")).GetProperty("rejected_rows").GetInt64());
    }

    [Fact]
    public async Task An_incremental_read_watermarks_a_file_whose_bad_rows_were_quarantined()
    {
        _project.LakeFile("raw/orders/day1.csv", Day1);
        Ingest("on_error: quarantine", incremental: true);
        var first = await _project.RunOkAsync();

        var watermark = await (await _project.StoreAsync()).GetWatermarkAsync("ingest", "orders", CancellationToken.None);
        Assert.Equal(["raw/orders/day1.csv"], watermark.Keys);
        Assert.Equal(first.Id, watermark["raw/orders/day1.csv"].RunId);

        // The next run takes only the new file: day 1's good rows are not stored twice, its bad rows not quarantined twice.
        _project.LakeFile("raw/orders/day2.csv", "order_id,amount\n8,80\nnine,90\n");
        var second = await _project.RunOkAsync();

        Assert.Equal([1L, 2L, 4L, 6L, 8L], await StoredIdsAsync());
        var rows = _project.QueryLake("SELECT file, line FROM {file}", $"quarantine/orders/{second.Id}/orders.parquet");
        Assert.Equal([("raw/orders/day2.csv", 3L)], rows.Select(r => ((string)r[0]!, Long(r[1]))));
        Assert.Equal(["raw/orders/day2.csv"], (await _project.StepDetailsAsync(second.Id, "orders")).GetProperty("files").EnumerateArray().Select(e => e.GetString()));

        // Nothing new landed: the workflow is up to date, and nothing is stored or quarantined again.
        var third = await _project.RunAsync("ingest");
        Assert.Equal(RunStatus.UpToDate, third.Status);
        Assert.Equal([1L, 2L, 4L, 6L, 8L], await StoredIdsAsync());
        Assert.Empty(await _project.AnomaliesOfAsync(third.Id));
    }

    [Fact]
    public async Task By_default_a_malformed_row_fails_the_run_and_the_watermark_does_not_pass_the_file()
    {
        _project.LakeFile("raw/orders/day1.csv", Day1);
        Ingest("", incremental: true);

        var failed = await _project.RunAsync("ingest");

        Assert.Equal(RunStatus.Failed, failed.Status);
        var error = (await _project.StepRunAsync(failed.Id, "orders")).Error;
        Assert.Contains("raw/orders/day1.csv line 4", error);
        Assert.Empty(await (await _project.StoreAsync()).GetWatermarkAsync("ingest", "orders", CancellationToken.None));
        Assert.Null(await _project.DatasetVersionAsync("orders"));
        Assert.Empty(_project.QuarantineFiles());
        Assert.DoesNotContain(await _project.AnomaliesOfAsync(failed.Id), a => a.Kind == "corrupt_rows");

        // Once the file is repaired, the rerun reads it again: nothing was skipped.
        _project.LakeFile("raw/orders/day1.csv", "order_id,amount\n1,10\n2,20\n3,30\n4,40\n5,50\n6,60\n7,70\n");
        var rerun = await _project.RunOkAsync();

        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L, 7L], await StoredIdsAsync());
        Assert.Equal(["raw/orders/day1.csv"], (await (await _project.StoreAsync()).GetWatermarkAsync("ingest", "orders", CancellationToken.None)).Keys);
        Assert.Equal(rerun.Id, (await (await _project.StoreAsync()).GetWatermarkAsync("ingest", "orders", CancellationToken.None))["raw/orders/day1.csv"].RunId);
    }

    [Fact]
    public async Task Explicit_on_error_fail_behaves_like_the_default()
    {
        _project.LakeFile("raw/orders/day1.csv", Day1);
        Ingest("on_error: fail");

        var run = await _project.RunAsync("ingest");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("raw/orders/day1.csv line 4", run.Error);
    }

    [Fact]
    public async Task A_quarantined_read_that_fails_later_quarantines_nothing_and_watermarks_nothing()
    {
        _project.LakeFile("raw/orders/day1.csv", Day1);
        Ingest("on_error: quarantine", incremental: true);
        _project.Workflow("ingest", File.ReadAllText(Path.Combine(_project.Directory, "workflows/ingest.yaml")) + "\n" + """
              - id: boom
                type: sql
                inputs: [history]
                sql: SELECT error('later failure') AS x
            """);

        var run = await _project.RunAsync("ingest");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Empty(_project.QuarantineFiles());
        Assert.Empty(await (await _project.StoreAsync()).GetWatermarkAsync("ingest", "orders", CancellationToken.None));
    }

    [Fact]
    public async Task Quarantine_works_without_a_schema()
    {
        _project.LakeFile("raw/orders/day1.csv", "order_id,amount\n1,10\n2,20\n3,30,extra\n4,40\n");
        _project.Workflow("ingest", """
            name: ingest
            steps:
              - id: orders
                type: read
                path: raw/orders/*.csv
                on_error: quarantine
              - id: out
                type: write
                input: orders
                path: out/orders.parquet
            """);

        var run = await _project.RunOkAsync();

        Assert.Equal([1L, 2L, 4L], _project.QueryLake("SELECT order_id FROM {file} ORDER BY 1", "out/orders.parquet").Select(r => Long(r[0])));
        Assert.Equal([4L], _project.QueryLake("SELECT line FROM {file}", $"quarantine/orders/{run.Id}/orders.parquet").Select(r => Long(r[0])));
    }

    [Fact]
    public async Task Without_a_schema_files_are_read_with_the_first_files_columns()
    {
        // DuckDB keeps no rejects while combining files by name, so under quarantine the first file's columns rule:
        // a later file's extra column is not read (its rows are); a schema makes this explicit.
        _project.LakeFile("raw/orders/a.csv", "order_id,amount\n1,10\n2,20\n")
                .LakeFile("raw/orders/b.csv", "order_id,amount,currency\n3,30,EUR\n4,40,EUR\n");
        _project.Workflow("ingest", """
            name: ingest
            steps:
              - id: orders
                type: read
                path: raw/orders/*.csv
                on_error: quarantine
              - id: out
                type: write
                input: orders
                path: out/orders.parquet
            """);

        var run = await _project.RunOkAsync();

        Assert.Equal([(1L, 10L), (2L, 20L), (3L, 30L), (4L, 40L)], _project.QueryLake("SELECT order_id, amount FROM {file} ORDER BY 1", "out/orders.parquet").Select(r => (Long(r[0]), Long(r[1]))));
        Assert.Equal(["order_id", "amount"], _project.QueryLake("SELECT column_name FROM (DESCRIBE SELECT * FROM {file})", "out/orders.parquet").Select(r => (string)r[0]!));
        Assert.Empty(await _project.AnomaliesOfAsync(run.Id));
    }

    [Fact]
    public void On_error_must_be_fail_or_quarantine()
    {
        Ingest("on_error: skip");

        var error = DefinitionAssert.Single(_project.Check(), "on_error must be fail or quarantine, got 'skip'");
        Assert.Equal(("workflows/ingest.yaml", 8, 15), (error.Location.File, error.Location.Line, error.Location.Column));
    }
}
