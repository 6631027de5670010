using System.Text.Json;
using Millrace.Learning;
using Millrace.Storage;
using Millrace.Tests.Learning;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

/// <summary>
/// The evaluate step on real predictions and labels in the lake, against hand-computed metrics: which score dates it
/// evaluates (only those whose horizon has passed, only the recent ones), the event labels' horizon boundaries, shadow
/// points on the champion's labelled rows, the performance_dropped anomaly, and value labels for regression.
/// </summary>
public sealed class EvaluateStepTests(EvaluateProject fixture) : IClassFixture<EvaluateProject>
{
    static readonly CancellationToken None = CancellationToken.None;
    TestProject Project => fixture.Project;

    /// <summary>The hand fixture (<see cref="RealizedMetricsTests"/>) for each of <paramref name="dates"/>, customers 1–8.</summary>
    static string Predictions(params string[] dates) => "as_of,customer_id,probability,predicted_label,model_version,run_id\n" + string.Concat(dates.SelectMany(date =>
        Enumerable.Range(0, 8).Select(i => $"{date},{i + 1},{RealizedMetricsTests.Probability[i]},{(RealizedMetricsTests.Predicted[i] ? "true" : "false")},1,r\n")));

    // Customers 1, 2, 4, 6 churn within (2026-01-01, 2026-01-15]; 3 churns a day too late, 5 on the score date itself, 99 was never scored.
    const string Churns = "customer_id,churned_at\n1,2026-01-03\n2,2026-01-15\n4,2026-01-10\n6,2026-01-02\n3,2026-01-16\n5,2026-01-01\n99,2026-01-05\n";

    const string ChurnLabel = "label: { input: LABELS, key: customer_id, event_time: churned_at, horizon: 14d }";

    async Task<IReadOnlyList<PerformancePoint>> PointsOfAsync(Run run, string model = "churn") =>
        (await (await Project.StoreAsync()).ListPerformanceAsync(Project.Open().Id, model, null, null, null, None)).Where(p => p.RunId == run.Id).ToList();

    async Task<IReadOnlyList<string>> WarningsOfAsync(Run run) =>
        (await (await Project.StoreAsync()).GetLogsAsync(run.Id, None)).Where(l => l.Level == "warn").Select(l => l.Message).ToList();

    [Fact]
    public async Task A_score_date_whose_horizon_passed_gets_the_hand_computed_metrics_and_older_dates_are_not_evaluated_again()
    {
        await fixture.SeedAsync("preds_a", Predictions("2025-12-01", "2026-01-01", "2026-01-10"), partitionBy: "as_of");
        await fixture.SeedAsync("labels_a", Churns);
        fixture.EvaluateWorkflow("evaluate_a", "preds_a, labels_a", $"""
            model: churn
            predictions: preds_a
            {ChurnLabel.Replace("LABELS", "labels_a", StringComparison.Ordinal)}
            """);

        var run = await Project.RunSucceededAsync("evaluate_a", ("run.date", "2026-01-15"));

        var point = Assert.Single(await PointsOfAsync(run));
        Assert.Equal((new DateOnly(2026, 1, 1), 1, PredictionVariant.Champion, 8L, 8L), (point.ScoreDate, point.Version, point.Variant, point.ScoredRows, point.LabelledRows));
        Assert.Equal(0.8125, point.Metrics["auc"], 6);
        Assert.Equal((1 + 1 + 0.75 + 4.0 / 6) / 4, point.Metrics["pr_auc"], 6);
        Assert.Equal(-Math.Log(0.6) / Math.Log(2), point.Metrics["log_loss"], 6);
        Assert.Equal(0.35, point.Metrics["calibration_error"], 6);
        Assert.Equal((0.75, 0.75), (point.Metrics["precision"], point.Metrics["recall"]));
        var details = await Project.StepDetailsAsync(run.Id, "realized");
        Assert.Equal("2025-12-30..2026-01-01", details.GetProperty("window").GetString());
    }

    [Fact]
    public async Task A_score_date_whose_horizon_has_not_passed_is_not_evaluated_and_the_warning_says_when_it_will_be()
    {
        await fixture.SeedAsync("preds_b", Predictions("2026-01-01"));
        await fixture.SeedAsync("labels_b", Churns);
        fixture.EvaluateWorkflow("evaluate_b", "preds_b, labels_b", $"""
            model: churn
            predictions: preds_b
            {ChurnLabel.Replace("LABELS", "labels_b", StringComparison.Ordinal)}
            """);

        var early = await Project.RunSucceededAsync("evaluate_b", ("run.date", "2026-01-14"));
        var due = await Project.RunSucceededAsync("evaluate_b", ("run.date", "2026-01-15"));

        Assert.Empty(await PointsOfAsync(early));
        Assert.Contains(await WarningsOfAsync(early), w => w.Contains("no score date has a complete 14d horizon as of run.date 2026-01-14", StringComparison.Ordinal) && w.Contains("evaluable from 2026-01-15", StringComparison.Ordinal));
        Assert.Equal(0.8125, Assert.Single(await PointsOfAsync(due)).Metrics["auc"], 6);
    }

    [Fact]
    public async Task Shadow_points_are_measured_on_the_rows_the_champions_were_labelled_on()
    {
        await fixture.SeedAsync("preds_c", Predictions("2026-01-01"));
        // The challenger scores customers 1-6 and 50 (never in the champion's output): it ranks every churner first.
        await fixture.SeedAsync("preds_c_shadow", "as_of,customer_id,probability,predicted_label,model_version,run_id\n" +
            "2026-01-01,1,0.6,true,1,r\n2026-01-01,2,0.7,true,1,r\n2026-01-01,3,0.2,false,1,r\n2026-01-01,4,0.9,true,1,r\n2026-01-01,5,0.1,false,1,r\n2026-01-01,6,0.8,true,1,r\n2026-01-01,50,0.5,false,1,r\n");
        await fixture.SeedAsync("labels_c", Churns);
        fixture.EvaluateWorkflow("evaluate_c", "preds_c, preds_c_shadow, labels_c", $"""
            model: churn
            predictions: preds_c
            shadow: preds_c_shadow
            {ChurnLabel.Replace("LABELS", "labels_c", StringComparison.Ordinal)}
            """);

        var run = await Project.RunSucceededAsync("evaluate_c", ("run.date", "2026-01-15"));

        var points = await PointsOfAsync(run);
        var champion = points.Single(p => p.Variant == PredictionVariant.Champion);
        var shadow = points.Single(p => p.Variant == PredictionVariant.Shadow);
        Assert.Equal(0.8125, champion.Metrics["auc"], 6);
        Assert.Equal((7L, 6L), (shadow.ScoredRows, shadow.LabelledRows));
        Assert.Equal(1.0, shadow.Metrics["auc"], 6);
        Assert.Equal((1.0, 1.0), (shadow.Metrics["precision"], shadow.Metrics["recall"]));
    }

    [Fact]
    public async Task A_realized_metric_more_than_the_drop_below_the_holdout_records_a_performance_dropped_anomaly()
    {
        await fixture.SeedAsync("preds_d", Predictions("2026-01-01"));
        await fixture.SeedAsync("labels_d", Churns);
        var holdout = (await Project.ModelAsync("churn", 1)).Metrics["auc"];
        Assert.True(holdout - 0.8125 > 0.05, $"the fixture needs a holdout AUC above 0.8625, has {holdout}");
        fixture.EvaluateWorkflow("evaluate_d", "preds_d, labels_d", $$"""
            model: churn
            predictions: preds_d
            {{ChurnLabel.Replace("LABELS", "labels_d", StringComparison.Ordinal)}}
            alert: { metric: auc, drop: 0.05 }
            """);
        var run = await Project.RunSucceededAsync("evaluate_d", ("run.date", "2026-01-15"));
        fixture.EvaluateWorkflow("evaluate_d", "preds_d, labels_d", $$"""
            model: churn
            predictions: preds_d
            {{ChurnLabel.Replace("LABELS", "labels_d", StringComparison.Ordinal)}}
            alert: { metric: auc, drop: {{(holdout - 0.8125 + 0.01).ToString("0.######", System.Globalization.CultureInfo.InvariantCulture)}} }
            """);
        var tolerant = await Project.RunSucceededAsync("evaluate_d", ("run.date", "2026-01-15"));

        var store = await Project.StoreAsync();
        var anomaly = Assert.Single(await store.FindAnomaliesAsync(run.Id, "performance_dropped", new Page(), None));
        using var details = JsonDocument.Parse(anomaly.DetailsJson!);
        var root = details.RootElement;
        Assert.Equal(("churn", 1, "auc", "2026-01-01"), (root.GetProperty("model").GetString(), root.GetProperty("version").GetInt32(), root.GetProperty("metric").GetString(), root.GetProperty("score_date").GetString()));
        Assert.Equal(0.8125, root.GetProperty("value").GetDouble(), 6);
        Assert.Equal(holdout, root.GetProperty("reference").GetDouble(), 9);
        Assert.Equal(AnomalySeverity.Warning, anomaly.Severity);
        // The same point with a drop just larger than the gap: the evaluation ran (its point exists), no anomaly.
        Assert.Single(await PointsOfAsync(tolerant));
        Assert.Empty(await store.FindAnomaliesAsync(tolerant.Id, "performance_dropped", new Page(), None));
    }

    [Fact]
    public async Task Labels_that_never_arrive_give_coverage_zero_no_metric_and_a_warning()
    {
        await fixture.SeedAsync("preds_e", Predictions("2026-01-01"));
        await fixture.SeedAsync("labels_e", "customer_id,churned_at\n99,2026-01-05\n");
        fixture.EvaluateWorkflow("evaluate_e", "preds_e, labels_e", $"""
            model: churn
            predictions: preds_e
            {ChurnLabel.Replace("LABELS", "labels_e", StringComparison.Ordinal)}
            """);

        var run = await Project.RunSucceededAsync("evaluate_e", ("run.date", "2026-01-15"));

        var point = Assert.Single(await PointsOfAsync(run));
        Assert.Equal((8L, 0L, 0.0), (point.ScoredRows, point.LabelledRows, point.Coverage));
        Assert.Empty(point.Metrics);
        Assert.Contains(await WarningsOfAsync(run), w => w.Contains("score date 2026-01-01: none of its 8 predictions has a label (coverage 0)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Regression_labels_from_a_value_column_give_rmse_and_mae_and_disagreeing_labels_are_left_out_with_a_warning()
    {
        await fixture.SeedAsync("preds_f", "as_of,customer_id,score,model_version\n2026-01-01,1,10,1\n2026-01-01,2,20,1\n2026-01-01,3,30,1\n2026-01-01,4,40,1\n2026-01-01,5,50,1\n");
        // Customer 4 has no label; customer 5 two that disagree; 7 was never scored.
        await fixture.SeedAsync("labels_f", "customer_id,actual\n1,12\n2,18\n3,33\n5,49\n5,51\n7,100\n");
        fixture.EvaluateWorkflow("evaluate_f", "preds_f, labels_f", """
            model: minutes
            predictions: preds_f
            label: { input: labels_f, key: customer_id, value: actual, horizon: 1d }
            """);

        var run = await Project.RunSucceededAsync("evaluate_f", ("run.date", "2026-01-02"));

        var point = Assert.Single(await PointsOfAsync(run, "minutes"));
        Assert.Equal((5L, 3L), (point.ScoredRows, point.LabelledRows));
        Assert.Equal(Math.Sqrt(17.0 / 3), point.Metrics["rmse"], 5);
        Assert.Equal(7.0 / 3, point.Metrics["mae"], 5);
        Assert.Equal(RealizedMetrics.Names(ModelTask.Regression).Order(), point.Metrics.Keys.Order());
        Assert.Contains(await WarningsOfAsync(run), w => w.Contains("1 prediction(s) match labels that disagree for their key (e.g. customer_id = '5')", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_label_column_of_the_wrong_type_fails_the_step_naming_the_column_and_its_type()
    {
        await fixture.SeedAsync("preds_g", Predictions("2026-01-01"));
        await fixture.SeedAsync("labels_g", "customer_id,churn_score\n1,0.5\n2,0.25\n");
        fixture.EvaluateWorkflow("evaluate_g", "preds_g, labels_g", """
            model: churn
            predictions: preds_g
            label: { input: labels_g, key: customer_id, value: churn_score, horizon: 14d }
            """);

        var run = await Project.RunAsync("evaluate_g", ("run.date", "2026-01-15"));

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("label column 'churn_score' of 'labels_g' is DOUBLE; a binary model's label must be a BOOLEAN, 0/1 or 'true'/'false'", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Security")]
    public async Task Label_values_that_look_like_sql_are_data_left_out_with_a_warning_never_run()
    {
        await fixture.SeedAsync("preds_h", Predictions("2026-01-01"));
        await fixture.SeedAsync("labels_h", "customer_id,churned\n1,true\n2,\"x'); DROP TABLE labels_h; --\"\n3,false\n");
        fixture.EvaluateWorkflow("evaluate_h", "preds_h, labels_h", """
            model: churn
            predictions: preds_h
            label: { input: labels_h, key: customer_id, value: churned, horizon: 14d }
            """);

        var run = await Project.RunSucceededAsync("evaluate_h", ("run.date", "2026-01-15"));

        var point = Assert.Single(await PointsOfAsync(run));
        Assert.Equal((8L, 2L), (point.ScoredRows, point.LabelledRows));
        Assert.Contains(await WarningsOfAsync(run), w => w.Contains("1 label value(s) of column 'churned' in 'labels_h' are not a valid label", StringComparison.Ordinal));
        Assert.Equal(3, (await Project.QueryDatasetAsync("labels_h", "SELECT count(*) FROM {dataset}")).Single()[0] is long n ? (int)n : -1);
    }
}
