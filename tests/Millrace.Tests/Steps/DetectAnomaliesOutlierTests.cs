using System.Globalization;
using System.Text;
using System.Text.Json;
using Millrace.Storage;
using Millrace.Tests.TestSupport;
using Xunit.Abstractions;

namespace Millrace.Tests.Steps;

/// <summary>method: outliers — RandomizedPca over numeric features.</summary>
public sealed class DetectAnomaliesOutlierTests(ITestOutputHelper output) : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public async Task Injected_outliers_are_found_with_high_precision_and_recall()
    {
        var (csv, outlierIds) = DetectAnomaliesData.CorrelatedRows(2_000, 20);
        _project.LakeFile("raw/rows.csv", csv);
        _project.DetectWorkflow("raw/rows.csv", """
            method: outliers
            features: { exclude: [id] }
            """);

        var run = await _project.RunSucceededAsync();

        var flagged = _project.Found("SELECT id FROM {found} WHERE is_anomaly").Select(r => (long)r[0]!).ToHashSet();
        var truePositives = flagged.Count(outlierIds.Contains);
        var precision = flagged.Count == 0 ? 0 : (double)truePositives / flagged.Count;
        var recall = (double)truePositives / outlierIds.Count;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RandomizedPca, 2,000 rows, 20 injected outliers, contamination 0.01: flagged {flagged.Count}, true positives {truePositives}, precision {precision:0.00}, recall {recall:0.00}"));
        Assert.True(precision >= 0.8, $"precision {precision}");
        Assert.True(recall >= 0.8, $"recall {recall}");
        Assert.Equal(20, flagged.Count); // the top 1%

        // Every input row comes out once, in order, with its columns, a score and the flag.
        Assert.Equal([[2_000L, 1L, 2_000L, 0L]], _project.Found("SELECT count(*), min(id), max(id), count(*) FILTER (WHERE score IS NULL) FROM {found}"));
        Assert.Equal(["id", "segment", "x1", "x2", "x3", "x4", "x5", "score", "is_anomaly"],
            _project.Found("SELECT column_name FROM (DESCRIBE SELECT * FROM {found})").Select(r => (string)r[0]!));
        var anomaly = Assert.Single(await _project.AnomaliesAsync(run.Id));
        output.WriteLine(anomaly.Message);
        Assert.Equal(("outliers", AnomalySeverity.Warning, "warn"), (anomaly.Kind, anomaly.Severity, anomaly.Policy));
        Assert.StartsWith("20 of 2000 rows are outliers over x1, x2, x3, x4, x5", anomaly.Message);
        var details = anomaly.Details();
        Assert.Equal(20, details.GetProperty("flagged").GetInt32());
        var examples = details.GetProperty("examples").EnumerateArray().ToList();
        Assert.Equal(5, examples.Count);
        var scores = examples.Select(e => e.GetProperty("score").GetDouble()).ToList();
        Assert.Equal(scores.OrderDescending(), scores);
        Assert.All(examples, e => Assert.Contains(e.GetProperty("id").GetInt64(), flagged));
        Assert.All(examples, e => Assert.Equal(JsonValueKind.String, e.GetProperty("segment").ValueKind));
    }

    [Fact]
    public async Task A_fixed_threshold_flags_only_rows_above_it()
    {
        var (csv, _) = DetectAnomaliesData.CorrelatedRows(500, 0);
        _project.LakeFile("raw/rows.csv", csv);
        _project.DetectWorkflow("raw/rows.csv", """
            method: outliers
            features: [x1, x2, x3, x4, x5]
            rank: 9
            threshold: 1000
            """);

        var run = await _project.RunSucceededAsync();

        Assert.Equal([[500L, 0L]], _project.Found("SELECT count(*), count(*) FILTER (WHERE is_anomaly) FROM {found}"));
        Assert.Empty(await _project.AnomaliesAsync(run.Id));
        var logs = await (await _project.StoreAsync()).GetLogsAsync(run.Id, CancellationToken.None);
        Assert.Contains(logs, l => l.Message.Contains("rank 9 capped at 4", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Too_few_features_fail_the_step_with_the_reason()
    {
        _project.LakeFile("raw/rows.csv", "id,amount,kind\n1,10,a\n2,12,b\n3,11,a\n");
        _project.DetectWorkflow("raw/rows.csv", """
            method: outliers
            features: { exclude: [id] }
            """);

        var run = await _project.RunAsync("detect");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("method: outliers needs at least 2 numeric features that vary, found 1", (await _project.StepRunAsync(run.Id, "found")).Error);
    }
}

/// <summary>on_anomaly: fail records the anomalies, then fails the step (and the run).</summary>
public sealed class DetectAnomaliesPolicyTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public async Task On_anomaly_fail_fails_the_run_after_recording_the_anomaly()
    {
        _project.LakeFile("raw/sales.csv", DetectAnomaliesData.Sales(40, ("South", 39, 0.2)));
        _project.DetectWorkflow("raw/sales.csv", """
            method: timeseries
            time: sold_at
            value: amount
            group_by: region
            on_anomaly: fail
            """);

        var run = await _project.RunAsync("detect");

        Assert.Equal(RunStatus.Failed, run.Status);
        var step = await _project.StepRunAsync(run.Id, "found");
        Assert.Equal(RunStatus.Failed, step.Status);
        Assert.StartsWith("1 time-series anomaly in the latest bucket (2026-02-09): sum of amount for region=South on 2026-02-09", step.Error);
        Assert.Contains("on_anomaly: fail", step.Error);
        Assert.Equal(RunStatus.Skipped, (await _project.StepRunAsync(run.Id, "out")).Status);
        var anomaly = Assert.Single(await _project.AnomaliesAsync(run.Id));
        Assert.Equal(("timeseries", "fail", AnomalySeverity.Error), (anomaly.Kind, anomaly.Policy, anomaly.Severity));
        Assert.Empty(_project.FilesUnder("lake/out"));
    }

    [Fact]
    public async Task On_anomaly_fail_passes_when_only_older_buckets_are_flagged()
    {
        _project.LakeFile("raw/sales.csv", DetectAnomaliesData.Sales(40, ("South", 30, 0.2)));
        _project.DetectWorkflow("raw/sales.csv", """
            method: timeseries
            time: sold_at
            value: amount
            group_by: region
            on_anomaly: fail
            """);

        var run = await _project.RunSucceededAsync();

        Assert.Empty(await _project.AnomaliesAsync(run.Id));
        Assert.Equal([[1L]], _project.Found("SELECT count(*) FROM {found} WHERE is_anomaly"));
    }

    [Fact]
    public async Task On_anomaly_fail_with_outliers_above_a_threshold_fails_the_run()
    {
        var (csv, _) = DetectAnomaliesData.CorrelatedRows(400, 4);
        _project.LakeFile("raw/rows.csv", csv);
        _project.DetectWorkflow("raw/rows.csv", """
            method: outliers
            features: [x1, x2, x3, x4, x5]
            threshold: 1.0
            on_anomaly: fail
            """);

        var run = await _project.RunAsync("detect");

        Assert.Equal(RunStatus.Failed, run.Status);
        var anomaly = Assert.Single(await _project.AnomaliesAsync(run.Id));
        Assert.Equal(("outliers", "fail"), (anomaly.Kind, anomaly.Policy));
        Assert.Contains("rows are outliers", (await _project.StepRunAsync(run.Id, "found")).Error);
    }
}

/// <summary>Option errors are reported by validation, with file, line and step; column errors when the step runs.</summary>
public sealed class DetectAnomaliesValidationTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    IReadOnlyList<Millrace.Definitions.DefinitionError> Check(string options)
    {
        _project.DetectWorkflow("raw/sales.csv", options);
        return _project.Check();
    }

    [Fact]
    public void An_unknown_method_is_reported_with_a_suggestion()
    {
        var error = DefinitionAssert.Single(Check("method: timeseris\ntime: sold_at\nvalue: amount"), "method must be timeseries or outliers, got 'timeseris'; did you mean 'timeseries'?");
        Assert.Equal(("found", 9), (error.StepId, error.Location.Line));
    }

    [Fact]
    public void A_missing_method_is_reported() =>
        DefinitionAssert.Single(Check("time: sold_at"), "missing required field 'method'");

    [Fact]
    public void A_missing_time_column_is_reported() =>
        DefinitionAssert.Single(Check("method: timeseries\nvalue: amount"), "method: timeseries needs 'time'");

    [Fact]
    public void A_missing_value_column_is_reported_unless_rows_are_counted()
    {
        DefinitionAssert.Single(Check("method: timeseries\ntime: sold_at"), "method: timeseries needs 'value': the column whose sum is measured per bucket");
        DefinitionAssert.None(Check("method: timeseries\ntime: sold_at\naggregate: count"));
    }

    [Fact]
    public void Options_of_the_other_method_are_reported()
    {
        var errors = Check("method: timeseries\ntime: sold_at\nvalue: amount\nrank: 2\ncontamination: 0.1");
        DefinitionAssert.Single(errors, "'rank' is an option of method: outliers, not of method: timeseries");
        DefinitionAssert.Single(errors, "'contamination' is an option of method: outliers");
        DefinitionAssert.Single(Check("method: outliers\nwindow: 3"), "'window' is an option of method: timeseries");
    }

    [Fact]
    public void Bad_values_are_reported()
    {
        var errors = Check("""
            method: timeseries
            time: sold_at
            value: amount
            bucket: fortnight
            aggregate: median
            seasonal: weekly
            window: 5
            min_history: 6
            threshold: 0
            report: some
            on_anomaly: stop
            group_by: [region, score]
            """);
        DefinitionAssert.Single(errors, "bucket must be day, week, month or hour, got 'fortnight'");
        DefinitionAssert.Single(errors, "aggregate must be sum, count or avg, got 'median'");
        DefinitionAssert.Single(errors, "min_history (6) cannot exceed window (5)");
        DefinitionAssert.Single(errors, "threshold must be positive");
        DefinitionAssert.Single(errors, "report must be latest or all, got 'some'");
        DefinitionAssert.Single(errors, "on_anomaly must be warn or fail, got 'stop'");
        DefinitionAssert.Single(errors, "group_by column 'score' has the name of an output column");
        DefinitionAssert.Single(Check("method: timeseries\ntime: t\nvalue: v\nbucket: month\nseasonal: weekly"), "seasonal: weekly compares buckets of the same weekday, so it needs bucket: day or hour, not month");
    }

    [Fact]
    public void Outlier_option_errors_are_reported()
    {
        DefinitionAssert.Single(Check("method: outliers\ncontamination: 0.7"), "contamination is the share of rows to flag: more than 0 and at most 0.5");
        DefinitionAssert.Single(Check("method: outliers\nthreshold: 0.5\ncontamination: 0.1"), "give threshold (a fixed score) or contamination (a share of rows), not both");
        DefinitionAssert.Single(Check("method: outliers\non_anomaly: fail"), "on_anomaly: fail needs a threshold with method: outliers");
        DefinitionAssert.Single(Check("method: outliers\nrank: 0"), "field 'rank' must be at least 1");
        DefinitionAssert.None(Check("method: outliers\nfeatures: { include: [a, b] }\nrank: 2\nseed: 7\noversampling: 10\nthreshold: 0.5\non_anomaly: fail"));
    }

    [Fact]
    public async Task A_column_missing_from_the_input_fails_the_step_naming_it()
    {
        _project.LakeFile("raw/sales.csv", DetectAnomaliesData.Sales(3));
        Check("method: timeseries\ntime: sold_on\nvalue: amount");

        var run = await _project.RunAsync("detect");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal("time column 'sold_on' is not in the input (columns: sale_id, region, sold_at, amount)", (await _project.StepRunAsync(run.Id, "found")).Error);
    }

    [Fact]
    public async Task A_time_column_that_is_not_a_date_fails_the_step()
    {
        _project.LakeFile("raw/sales.csv", DetectAnomaliesData.Sales(3));
        Check("method: timeseries\ntime: region\nvalue: amount");

        var run = await _project.RunAsync("detect");

        Assert.Contains("time column 'region' is VARCHAR, not a DATE or TIMESTAMP", (await _project.StepRunAsync(run.Id, "found")).Error);
    }
}
