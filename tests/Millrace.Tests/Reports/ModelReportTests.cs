using System.Globalization;
using Millrace.Reports;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Reports;

/// <summary>
/// The built-in model report: versions over time from the registry, the champion's confusion matrix, ROC curve and
/// feature importance, and drift of the latest batch; after a train step it shows the version the run registers.
/// </summary>
public sealed class ModelReportTests
{
    /// <summary>read → train → holdout rows → model report (after the train step, ROC on the holdout rows).</summary>
    static TestProject TrainingProject(string customers)
    {
        var project = new TestProject();
        project.LakeFile("raw/customers.csv", customers);
        project.Workflow("train", """
            name: train
            steps:
              - id: data
                type: read
                path: raw/customers.csv
              - id: fit
                type: train
                input: data
                model: churn
                task: binary
                label: churned
                features: { exclude: [customer_id] }
                options: { iterations: 30 }
              - id: holdout
                type: sql
                inputs: [data]
                sql: SELECT * FROM data WHERE customer_id % 5 = 0
              - id: churn_report
                type: model_report
                inputs: [fit, holdout]
                model: churn
            """);
        return project;
    }

    [Fact]
    public async Task A_model_report_after_a_train_step_shows_the_version_it_registers()
    {
        await using var project = TrainingProject(LearningData.Customers());
        var run = await project.RunForDateAsync("train", "2026-03-01");

        var model = await project.ModelAsync("churn", 1);
        var html = project.ReportFile("model_churn", "2026-03-01");
        Assert.Contains("<h1>Model churn</h1>", html, StringComparison.Ordinal);
        Assert.Contains("<h2>Champion v1</h2>", html, StringComparison.Ordinal);
        Assert.Contains("This run registered v1 as champion: first version of &#39;churn&#39;", html, StringComparison.Ordinal);
        Assert.Contains("<td>v1</td><td>2026-03-01</td><td>lightgbm</td>", html, StringComparison.Ordinal);

        // The confusion matrix shows the version's holdout counts.
        Assert.Contains("<h3>Confusion matrix on the holdout</h3>", html, StringComparison.Ordinal);
        foreach (var metric in new[] { "tp", "fp", "tn", "fn" })
            Assert.Contains($"<strong>{model.Metrics[metric].ToString("N0", CultureInfo.InvariantCulture)}</strong>", html, StringComparison.Ordinal);

        // KPIs: the champion version and its key metrics; the output has a row per KPI.
        var kpis = KpiHistory.Deserialize(project.ReportFile("model_churn", "2026-03-01", "kpis.json"))!;
        Assert.Equal(["champion version", "auc", "pr_auc", "f1", "accuracy"], kpis.Kpis.Select(k => k.Label).ToList());
        Assert.Equal(1.0, kpis.Kpis[0].Value);
        Assert.Equal(model.Metrics["auc"], kpis.Kpis[1].Value!.Value, 9);
        Assert.Equal(5, (await project.StepRunAsync(run.Id, "churn_report")).Rows);

        // Charts: metrics by version, ROC curve on the version's own holdout (with the diagonal), feature importance,
        // and the ROC curve on the step's labelled input, in a section of its own.
        var charts = ReportTestSupport.Charts(html);
        Assert.Equal(4, charts.Count);
        Assert.Contains("<h2>v1 on holdout</h2>", html, StringComparison.Ordinal);
        Assert.Contains($"From v1&#39;s scores of its own holdout (the rows its metrics and confusion matrix are from, {model.HoldoutRows:N0} rows)", html, StringComparison.Ordinal);
        Assert.Contains("v1", ReportTestSupport.Texts(charts[0]));
        Assert.Contains("auc", ReportTestSupport.Texts(charts[0]));
        var roc = ReportTestSupport.Texts(charts[1]);
        Assert.Contains("false positive rate", roc);
        Assert.Contains("true positive rate", roc);
        Assert.Contains("chance", roc);
        Assert.Contains(roc, t => System.Text.RegularExpressions.Regex.IsMatch(t, @"^v1 \(AUC [01]\.[0-9]{4}\)$"));
        Assert.Matches("From v1&#39;s scores of <code>holdout</code>: [0-9]+ positive and [0-9]+ negative rows", html);
        // The informative column leads the importance chart (categories read top to bottom).
        Assert.Equal(LearningData.Signal, model.Importance[0].Key);
        Assert.Contains(LearningData.Signal, ReportTestSupport.Texts(charts[2]));
        Assert.Equal("feature,importance", File.ReadLines(project.LakePath("reports/model_churn/2026-03-01/importance.csv")).First());
        Assert.StartsWith($"{LearningData.Signal},", File.ReadLines(project.LakePath("reports/model_churn/2026-03-01/importance.csv")).Skip(1).First(), StringComparison.Ordinal);
        Assert.Contains("No drift has been measured against <code>churn</code> yet", html, StringComparison.Ordinal);
        Assert.DoesNotMatch("https?://", html);
    }

    [Fact]
    public async Task The_roc_auc_matches_the_one_computed_from_the_scores_and_versions_accumulate()
    {
        await using var project = TrainingProject(LearningData.Customers());
        await project.RunForDateAsync("train", "2026-03-01");
        // New data for the second date (the same training inputs would register no new version).
        project.LakeFile("raw/customers.csv", LearningData.Customers(seed: 2));
        await project.RunForDateAsync("train", "2026-03-02");

        var html = project.ReportFile("model_churn", "2026-03-02");
        Assert.Contains("<td>v2</td><td>2026-03-02</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>v1</td><td>2026-03-01</td>", html, StringComparison.Ordinal);
        Assert.Equal(3, File.ReadAllLines(project.LakePath("reports/model_churn/2026-03-02/versions.csv")).Length);
        var kpis = KpiHistory.Deserialize(project.ReportFile("model_churn", "2026-03-02", "kpis.json"))!;
        Assert.Equal(new DateOnly(2026, 3, 1), kpis.PreviousDate);
        Assert.NotNull(kpis.Kpis.Single(k => k.Label == "auc").Previous);

        // The AUC of the drawn curve equals DuckDB's own pairwise estimate from a predict step's output: score the
        // holdout rows with the champion and recompute it as the share of (positive, negative) pairs ranked right.
        project.Workflow("check", """
            name: check
            steps:
              - id: data
                type: read
                path: raw/customers.csv
              - id: holdout
                type: sql
                inputs: [data]
                sql: SELECT * FROM data WHERE customer_id % 5 = 0
              - id: scored
                type: predict
                input: holdout
                model: churn@champion
              - id: out
                type: write
                input: scored
                path: out/scored.parquet
              - id: scored_report
                type: model_report
                inputs: [scored]
                model: churn
                name: scored_report
            """);
        await project.RunForDateAsync("check", "2026-03-02");
        var pairs = project.QueryLake("""
            SELECT avg(CASE WHEN p.probability > n.probability THEN 1.0 WHEN p.probability = n.probability THEN 0.5 ELSE 0.0 END)
            FROM (SELECT probability FROM {file} WHERE churned) p, (SELECT probability FROM {file} WHERE NOT churned) n
            """, "out/scored.parquet");
        var expected = Convert.ToDouble(pairs[0][0], CultureInfo.InvariantCulture).ToString("0.0000", CultureInfo.InvariantCulture);
        var report = project.ReportFile("scored_report", "2026-03-02");
        Assert.Contains($"From the <code>probability</code> column of <code>scored</code>", report, StringComparison.Ordinal);
        Assert.Contains($"AUC {expected}.", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Drift_of_the_latest_batch_is_drawn_with_its_threshold()
    {
        await using var project = TrainingProject(LearningData.Customers());
        await project.RunForDateAsync("train", "2026-03-01");
        // A batch whose tickets moved up by 4: the informative feature drifts.
        project.LakeFile("raw/batch.csv", string.Join('\n', LearningData.Customers(rows: 300, seed: 7).Split('\n').Select((line, i) =>
        {
            if (i == 0 || line.Length == 0) return line;
            var fields = line.Split(',');
            fields[4] = (int.Parse(fields[4], CultureInfo.InvariantCulture) + 4).ToString(CultureInfo.InvariantCulture);
            return string.Join(',', fields);
        })));
        project.Workflow("score", """
            name: score
            steps:
              - id: batch
                type: read
                path: raw/batch.csv
              - id: feature_drift
                type: drift
                input: batch
                model: churn@champion
            """);
        await project.RunForDateAsync("score", "2026-03-02");
        // The next training run's report shows the drift measured by the scoring run before it.
        await project.RunForDateAsync("train", "2026-03-03");

        var html = project.ReportFile("model_churn", "2026-03-03");
        Assert.Contains("Measured in the run of 2026-03-02 against <code>churn@v1</code>.", html, StringComparison.Ordinal);
        Assert.Matches("Above the threshold 0.3: <code>tickets</code> \\([0-9.]+\\)", html);
        var drift = ReportTestSupport.Charts(html).Last();
        Assert.Contains("threshold 0.3", ReportTestSupport.Texts(drift));
        Assert.Contains("tickets", ReportTestSupport.Texts(drift));
        Assert.Contains("population stability index (PSI)", ReportTestSupport.Texts(drift));
        var rows = File.ReadAllLines(project.LakePath("reports/model_churn/2026-03-03/drift.csv"));
        Assert.Equal("feature,psi,drifted,reference,step", rows[0]);
        Assert.StartsWith("tickets,", rows[1], StringComparison.Ordinal);
        Assert.Contains(",yes,churn@v1,feature_drift", rows[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_model_fails_or_skips_as_asked()
    {
        await using var project = new TestProject();
        project.LakeFile("raw/customers.csv", LearningData.Customers(rows: 50));
        // A train step registers 'nothing' (validation wants one), but it never runs.
        project.TrainWorkflow("train_nothing", "raw/customers.csv", "model: nothing\ntask: binary\nlabel: churned");
        project.Workflow("r", """
            name: r
            steps:
              - id: report
                type: model_report
                model: nothing@champion
            """);
        var failed = await project.RunAsync(new Millrace.Engine.RunRequest("r", [new("run.date", "2026-03-01")]));
        Assert.Equal(Millrace.Storage.RunStatus.Failed, failed.Status);
        Assert.Contains("model 'nothing' has no registered version yet; train it first, or set on_missing_model: skip", failed.Error, StringComparison.Ordinal);

        project.Workflow("r", """
            name: r
            steps:
              - id: report
                type: model_report
                model: nothing
                on_missing_model: skip
            """);
        await project.RunForDateAsync("r", "2026-03-01");
        Assert.Empty(project.FilesUnder("lake/reports"));

        // A model that no train step of the project registers is a definition error, as for predict.
        project.Workflow("r", """
            name: r
            steps:
              - id: report
                type: model_report
                model: nothin
            """);
        var error = Assert.Single(project.Check());
        Assert.Contains("unknown model 'nothin': no train step of the project registers it; did you mean 'nothing'?", error.ToString(), StringComparison.Ordinal);
    }
}
