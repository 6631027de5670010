using Microsoft.ML;
using Microsoft.ML.Data;
using Millrace.Learning;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

/// <summary>
/// The train step on a binary task, end to end through the Runner: each algorithm learns a clear signal, the
/// registered version carries the binary metrics, a feature plan by column type, and feature importance that ranks
/// the informative column first.
/// </summary>
public sealed class TrainBinaryTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/customers.csv", LearningData.Customers(nullLabelEvery: 40));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Theory]
    [InlineData("lightgbm")]
    [InlineData("fasttree")]
    [InlineData("sdca")]
    [InlineData("logistic")]
    public async Task Each_algorithm_learns_a_clear_signal_and_registers_v1_as_champion(string algorithm)
    {
        _project.TrainWorkflow("train", "raw/customers.csv", $$"""
            model: churn
            task: binary
            label: churned
            features: { exclude: [customer_id] }
            algorithm: {{algorithm}}
            options: { iterations: 30 }
            """);

        var run = await _project.RunSucceededAsync("train");

        var model = await _project.ModelAsync("churn");
        Assert.Equal((1, algorithm, ModelTask.Binary, "churned", run.Id), (model.Version, model.Algorithm, model.Task, model.Label, model.RunId));
        Assert.True(model.Metrics["auc"] > 0.9, $"{algorithm}: auc {model.Metrics["auc"]} on a clear signal");
        Assert.True(model.Metrics["accuracy"] > 0.85, $"{algorithm}: accuracy {model.Metrics["accuracy"]}");
        foreach (var metric in ModelBuilder.MetricNames(ModelTask.Binary))
            Assert.True(model.Metrics.ContainsKey(metric), $"metric {metric} missing: {string.Join(", ", model.Metrics.Keys)}");
        Assert.Equal(model.HoldoutRows, model.Metrics["tp"] + model.Metrics["fn"] + model.Metrics["fp"] + model.Metrics["tn"]);
        Assert.Equal("30", model.Options["iterations"]);
        Assert.Equal(new Dictionary<string, int> { ["champion"] = 1 }, await _project.AliasesAsync("churn"));
        Assert.True(File.Exists(_project.LakePath("models/churn/v1/model.zip")));
        Assert.True(File.Exists(_project.LakePath("models/churn/v1/metadata.json")));
        Assert.Equal("models/churn/v1/model.zip", model.Path);
        Assert.Empty(_project.FilesUnder("lake/_staging"));

        // Importance: one share per input column, summing to 1, the informative column first.
        Assert.Equal(model.Features.Select(f => f.Name).Order(), model.Importance.Select(i => i.Key).Order());
        Assert.InRange(model.Importance.Sum(i => i.Value), 0.999, 1.001);
        Assert.Equal(LearningData.Signal, model.Importance[0].Key);
        Assert.True(model.Importance[0].Value > 0.4, $"{algorithm}: {LearningData.Signal} has only {model.Importance[0].Value} of the importance");
    }

    [Fact]
    public async Task Features_are_planned_by_column_type()
    {
        _project.TrainWorkflow("train", "raw/customers.csv", """
            model: churn
            task: binary
            label: churned
            features: { exclude: [customer_id] }
            options: { iterations: 20 }
            """);

        await _project.RunSucceededAsync("train");

        var model = await _project.ModelAsync("churn");
        Assert.Equal(
            [
                new FeatureColumn("region", "VARCHAR", FeaturePlan.Categorical, "onehot"),
                new FeatureColumn("plan", "VARCHAR", FeaturePlan.Categorical, "onehot"),
                new FeatureColumn("code", "VARCHAR", FeaturePlan.Categorical, "hash"),     // ~150 distinct values > 50
                new FeatureColumn("tickets", "BIGINT", FeaturePlan.Numeric, "none"),
                new FeatureColumn("minutes", "DOUBLE", FeaturePlan.Numeric, "none"),
                new FeatureColumn("signup", "DATE", FeaturePlan.Date, "none"),
                new FeatureColumn("last_seen", "TIMESTAMP", FeaturePlan.Timestamp, "none"),
                new FeatureColumn("premium", "BOOLEAN", FeaturePlan.Boolean, "none"),
            ],
            model.Features);
        Assert.DoesNotContain(model.Features, f => f.Name is "customer_id" or "churned");

        // The saved model takes the columns the plan made: dates and timestamps as parts, booleans as numbers.
        var ml = new MLContext(0);
        using var stream = File.OpenRead(_project.LakePath(model.Path));
        ml.Model.Load(stream, out var input);
        Assert.Equal(
            ["region", "plan", "code", "tickets", "minutes", "signup.dayofweek", "signup.day", "signup.month",
             "last_seen.dayofweek", "last_seen.day", "last_seen.month", "last_seen.hour", "premium", "Label"],
            input.Select(c => c.Name));
        Assert.Equal(NumberDataViewType.Single, input["premium"].Type);
        Assert.Equal(NumberDataViewType.Single, input["last_seen.hour"].Type);
        Assert.Equal(TextDataViewType.Instance, input["region"].Type);
    }

    [Fact]
    public async Task Text_above_the_categorical_threshold_is_hashed()
    {
        _project.TrainWorkflow("train", "raw/customers.csv", """
            model: churn
            task: binary
            label: churned
            features: [region, plan, tickets]
            categorical_threshold: 3
            options: { iterations: 20 }
            """);

        await _project.RunSucceededAsync("train");

        var model = await _project.ModelAsync("churn");
        Assert.Equal([("region", "hash"), ("plan", "onehot"), ("tickets", "none")], model.Features.Select(f => (f.Name, f.Encoding)));
        Assert.True(model.Metrics["auc"] > 0.9, $"auc {model.Metrics["auc"]}");
    }

    [Fact]
    public async Task Rows_with_a_NULL_label_are_left_out_and_the_run_says_so()
    {
        _project.TrainWorkflow("train", "raw/customers.csv", """
            model: churn
            task: binary
            label: churned
            features: [tickets, region]
            options: { iterations: 20 }
            """);

        var run = await _project.RunSucceededAsync("train");

        var model = await _project.ModelAsync("churn");
        Assert.Equal(400 - 400 / 40, model.TrainRows + model.HoldoutRows);
        var logs = await (await _project.StoreAsync()).GetLogsAsync(run.Id, CancellationToken.None);
        Assert.Contains(logs, l => l.StepId == "fit" && l.Level == "warn" && l.Message.Contains("left out 10 row(s) with a NULL label 'churned'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_0_or_1_label_is_a_binary_label()
    {
        _project.Workflow("train", """
            name: train
            steps:
              - id: data
                type: read
                path: raw/customers.csv
              - id: numeric_label
                type: sql
                input: data
                sql: SELECT tickets, region, CAST(churned AS INTEGER) AS churned FROM data
              - id: fit
                type: train
                input: numeric_label
                model: churn
                task: binary
                label: churned
                options: { iterations: 20 }
            """);

        await _project.RunSucceededAsync("train");

        var model = await _project.ModelAsync("churn");
        Assert.True(model.Metrics["auc"] > 0.9, $"auc {model.Metrics["auc"]}");
        Assert.Equal(400 - 400 / 40, model.TrainRows + model.HoldoutRows);
    }

    [Fact]
    public async Task The_step_output_has_one_row_per_metric_of_the_new_version()
    {
        _project.Workflow("train", """
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
                features: [tickets, region]
                options: { iterations: 20 }
              - id: report
                type: write
                input: fit
                path: reports/metrics.csv
            """);

        await _project.RunSucceededAsync("train");

        var model = await _project.ModelAsync("churn");
        var rows = _project.QueryLake("SELECT model, version, metric, value, promoted FROM {file} ORDER BY metric", "reports/metrics.csv");
        Assert.Equal(model.Metrics.Keys.Order(StringComparer.Ordinal), rows.Select(r => (string)r[2]!));
        Assert.All(rows, r => Assert.Equal(("churn", 1L, true), ((string)r[0]!, Convert.ToInt64(r[1]), (bool)r[4]!)));
        var auc = rows.Single(r => (string)r[2]! == "auc");
        Assert.Equal(model.Metrics["auc"], (double)auc[3]!, 12);
    }

    [Fact]
    public async Task A_label_that_is_not_in_the_input_fails_with_the_column_named()
    {
        _project.TrainWorkflow("train", "raw/customers.csv", """
            model: churn
            task: binary
            label: has_churned
            """);

        var run = await _project.RunAsync("train");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("label column 'has_churned' is not in the input", run.Error, StringComparison.Ordinal);
        Assert.Empty(await _project.ModelVersionsAsync("churn"));
    }
}
