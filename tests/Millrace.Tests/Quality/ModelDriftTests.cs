using Millrace.Storage;
using Millrace.Tests.TestSupport;
using static Millrace.Tests.Quality.QualityProject;

namespace Millrace.Tests.Quality;

/// <summary>A project whose model 'churn' (v1, champion) was trained by a train step on <c>raw/customers.csv</c>.</summary>
public sealed class ChampionFixture : IAsyncLifetime
{
    public TestProject Project { get; } = new();

    public async Task InitializeAsync()
    {
        Project.LakeFile("raw/customers.csv", LearningData.Customers(rows: 600));
        Project.TrainWorkflow("train", "raw/customers.csv", """
            model: churn
            task: binary
            label: churned
            features: { exclude: [customer_id] }
            options: { iterations: 30 }
            """);
        await Project.RunOkAsync("train");
        // 'upsell' has a train step (so references to it are valid) that never ran: it has no version.
        Project.TrainWorkflow("train_upsell", "raw/customers.csv", """
            model: upsell
            task: binary
            label: premium
            """);
    }

    public Task DisposeAsync() => Project.DisposeAsync().AsTask();
}

/// <summary>
/// Drift against a model: the reference is the training profile saved with the champion (feature distributions of
/// the training rows, and the score distribution on the holdout). A batch like the training data does not drift; a
/// shifted feature does; scoring records prediction drift as feature <c>__prediction__</c>.
/// </summary>
public sealed class ModelDriftTests(ChampionFixture fixture) : IClassFixture<ChampionFixture>
{
    readonly TestProject _project = fixture.Project;

    /// <summary>Workflow <c>monitor</c>: read customers, reshape them with <paramref name="sql"/> (table <c>data</c>), then drift and predict.</summary>
    void Monitor(string sql = "SELECT * FROM data", string driftFields = "model: churn@champion", string predictFields = "model: churn@champion", bool predict = true) =>
        _project.Workflow("monitor", predict ? Steps(sql, driftFields) + $"""

              - id: scored
                type: predict
                input: batch
            {LearningProject.Indent(predictFields, "    ")}
              - id: out
                type: write
                input: scored
                path: out/scored.parquet
            """ : Steps(sql, driftFields));

    static string Steps(string sql, string driftFields) => $"""
            name: monitor
            steps:
              - id: data
                type: read
                path: raw/customers.csv
              - id: batch
                type: sql
                inputs: [data]
                sql: {sql}
              - id: drift
                type: drift
                input: batch
            {LearningProject.Indent(driftFields, "    ")}
            """;

    [Fact]
    public async Task The_champion_carries_a_training_profile_of_its_features_and_scores()
    {
        var model = await _project.ModelAsync("churn");

        // Dates and timestamps are not profiled; every other feature is, plus the holdout scores.
        Assert.Equal(["__prediction__", "code", "minutes", "plan", "premium", "region", "tickets"], model.Profile.Select(p => p.Feature).Order(StringComparer.Ordinal));
        Assert.Equal("categorical", model.Profile.Single(p => p.Feature == "region").Kind);
        Assert.Equal("numeric", model.Profile.Single(p => p.Feature == "tickets").Kind);
        Assert.All(model.Profile, p => Assert.Equal(1, p.Proportions.Sum(), 9));
    }

    [Fact]
    public async Task A_batch_like_the_training_data_does_not_drift_from_the_champion()
    {
        Monitor();

        var run = await _project.RunOkAsync("monitor");

        var results = await _project.DriftResultsAsync(run.Id);
        var features = results.Where(r => r.StepId == "drift").ToList();
        Assert.Equal(["code", "minutes", "plan", "premium", "region", "tickets"], features.Select(r => r.Feature).Order(StringComparer.Ordinal));
        Assert.All(features, r => Assert.True(r.Psi < 0.1, $"{r.Feature}: PSI {r.Psi}"));
        Assert.All(features, r => Assert.Equal("churn@v1", r.Reference));
        Assert.DoesNotContain(await _project.AnomaliesOfAsync(run.Id), a => a.Kind is "drift" or "prediction_drift");
        var step = await _project.StepDetailsAsync(run.Id, "drift");
        Assert.Equal("churn@v1", step.GetProperty("reference").GetString());
        Assert.Equal(0, step.GetProperty("drifted").GetArrayLength());
    }

    [Fact]
    public async Task A_shifted_feature_drifts_from_the_champion()
    {
        // Every customer files 10 more tickets than anyone in the training data; the region feed switches to codes.
        Monitor("SELECT * REPLACE (tickets + 10 AS tickets, upper(region) AS region) FROM data");

        var run = await _project.RunOkAsync("monitor");

        var psi = (await _project.DriftResultsAsync(run.Id)).Where(r => r.StepId == "drift").ToDictionary(r => r.Feature, r => r.Psi);
        Assert.True(psi["tickets"] > 3, $"tickets PSI {psi["tickets"]}");
        Assert.True(psi["region"] > 3, $"region PSI {psi["region"]}");
        Assert.True(psi["minutes"] < 0.1, $"minutes PSI {psi["minutes"]}");
        var drifts = (await _project.AnomaliesOfAsync(run.Id)).Where(a => a.Kind == "drift").ToList();
        Assert.Equal(["region", "tickets"], drifts.Select(a => DetailsOf(a).GetProperty("feature").GetString()).Order(StringComparer.Ordinal));
        Assert.All(drifts, a => Assert.Contains("drifted from churn@v1", a.Message));
    }

    [Fact]
    public async Task Columns_limit_the_features_compared_with_the_champion()
    {
        Monitor(driftFields: "model: churn@champion\ncolumns: [tickets, plan]");

        var run = await _project.RunOkAsync("monitor");

        Assert.Equal(["plan", "tickets"], (await _project.DriftResultsAsync(run.Id)).Where(r => r.StepId == "drift").Select(r => r.Feature).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_batch_without_a_feature_of_the_champion_fails_naming_it()
    {
        Monitor("SELECT * EXCLUDE (minutes) FROM data", predict: false);

        var run = await _project.RunAsync("monitor");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("the batch lacks feature column(s) of the reference churn@v1: minutes", (await _project.StepRunAsync(run.Id, "drift")).Error);
    }

    [Fact]
    public async Task Drift_against_a_model_that_does_not_exist_fails_or_skips()
    {
        Monitor(driftFields: "model: upsell@champion", predictFields: "model: churn@champion");
        var failed = await _project.RunAsync("monitor");

        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Contains("model upsell@champion does not exist; drift needs a trained model as its reference (or on_missing_model: skip)", (await _project.StepRunAsync(failed.Id, "drift")).Error);

        Monitor(driftFields: "model: upsell@champion\non_missing_model: skip");
        var skipped = await _project.RunOkAsync("monitor");

        Assert.True((await _project.StepDetailsAsync(skipped.Id, "drift")).GetProperty("skipped").GetBoolean());
        Assert.DoesNotContain(await _project.DriftResultsAsync(skipped.Id), r => r.StepId == "drift");
    }

    [Fact]
    public void A_drift_steps_model_must_be_a_valid_reference_to_a_trained_model()
    {
        Monitor(driftFields: "model: chrun@champion", predict: false);
        var unknown = DefinitionAssert.Single(_project.Check(), "unknown model 'chrun': no train step of the project registers it");
        Assert.Contains("did you mean 'churn'?", unknown.Message);
        Assert.Equal(("drift", 13, 12), (unknown.StepId, unknown.Location.Line, unknown.Location.Column));

        Monitor(driftFields: "model: churn@", predict: false);
        Assert.Equal(13, Assert.Single(_project.Check()).Location.Line);

        Monitor(driftFields: "model: churn@champion\non_missing_model: ignore", predict: false);
        DefinitionAssert.Single(_project.Check(), "on_missing_model must be fail or skip, got 'ignore'");

        Monitor(driftFields: "model: ${which}@champion", predict: false);
        _project.Workflow("monitor", File.ReadAllText(Path.Combine(_project.Directory, "workflows/monitor.yaml")).Replace("name: monitor\n", "name: monitor\nparameters: { which: { default: churn } }\n", StringComparison.Ordinal));
        DefinitionAssert.None(_project.Check());
    }

    [Fact]
    public async Task A_malformed_model_reference_from_a_parameter_fails_the_step_clearly()
    {
        Monitor(driftFields: "model: ${which}", predict: false);
        _project.Workflow("monitor", File.ReadAllText(Path.Combine(_project.Directory, "workflows/monitor.yaml")).Replace("name: monitor\n", "name: monitor\nparameters: { which: { default: churn } }\n", StringComparison.Ordinal));

        var run = await _project.RunAsync("monitor", ("which", "churn@"));

        Assert.Equal(RunStatus.Failed, run.Status);
        var error = (await _project.StepRunAsync(run.Id, "drift")).Error;
        Assert.DoesNotContain("internal error", error);
        Assert.Equal("'churn@' is not a model reference: write name, name@alias or name@vN", error);
    }

    [Fact]
    public async Task Scoring_records_prediction_drift_as_the_feature___prediction__()
    {
        Monitor();

        var run = await _project.RunOkAsync("monitor");

        var prediction = Assert.Single(await _project.DriftResultsAsync(run.Id), r => r.Feature == "__prediction__");
        Assert.Equal(("scored", "churn@v1 holdout scores"), (prediction.StepId, prediction.Reference));
        Assert.True(prediction.Psi < 0.3, $"prediction PSI {prediction.Psi} on the training population");
        Assert.Equal(prediction.Psi, (await _project.StepDetailsAsync(run.Id, "scored")).GetProperty("prediction_psi").GetDouble());
    }

    [Fact]
    public async Task Scores_that_move_are_a_prediction_drift_anomaly()
    {
        // Everyone files many tickets: the model predicts churn for all, unlike its holdout (about half churned).
        Monitor("SELECT * REPLACE (9 AS tickets) FROM data");

        var run = await _project.RunOkAsync("monitor");

        var prediction = Assert.Single(await _project.DriftResultsAsync(run.Id), r => r.Feature == "__prediction__");
        Assert.True(prediction.Psi > 0.3, $"prediction PSI {prediction.Psi}");
        var anomaly = await _project.SingleAnomalyAsync(run.Id, "prediction_drift");
        Assert.Equal(("scored", AnomalySeverity.Warning, "warn"), (anomaly.StepId, anomaly.Severity, anomaly.Policy));
        Assert.StartsWith("the probability distribution drifted from churn@v1's holdout: PSI", anomaly.Message);
        Assert.Equal(prediction.Psi, DetailsOf(anomaly).GetProperty("psi").GetDouble());
    }

    [Fact]
    public async Task The_prediction_drift_threshold_is_configurable()
    {
        Monitor("SELECT * REPLACE (9 AS tickets) FROM data", predictFields: "model: churn@champion\ndrift_threshold: 100");

        var run = await _project.RunOkAsync("monitor");

        Assert.True(Assert.Single(await _project.DriftResultsAsync(run.Id), r => r.Feature == "__prediction__").Psi > 0.3);
        Assert.DoesNotContain(await _project.AnomaliesOfAsync(run.Id), a => a.Kind == "prediction_drift");
    }
}
