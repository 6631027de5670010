using Millrace.Learning;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

/// <summary>The train step on a three-class task: the classes follow one column, the others are noise.</summary>
public sealed class TrainMulticlassTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/segments.csv", LearningData.Segments());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Theory]
    [InlineData("lightgbm")]
    [InlineData("logistic")]
    public async Task Three_classes_are_learned_and_registered_with_multiclass_metrics(string algorithm)
    {
        _project.TrainWorkflow("train", "raw/segments.csv", $$"""
            model: segment
            task: multiclass
            label: segment
            features: { exclude: [id] }
            algorithm: {{algorithm}}
            options: { iterations: 50 }
            """);

        var run = await _project.RunSucceededAsync("train");

        var model = await _project.ModelAsync("segment");
        Assert.Equal((ModelTask.Multiclass, algorithm), (model.Task, model.Algorithm));
        Assert.Equal(["log_loss", "macro_accuracy", "micro_accuracy"], model.Metrics.Keys.Order(StringComparer.Ordinal));
        Assert.True(model.Metrics["macro_accuracy"] > 0.85, $"{algorithm}: macro accuracy {model.Metrics["macro_accuracy"]}");
        Assert.True(model.Metrics["micro_accuracy"] > 0.85, $"{algorithm}: micro accuracy {model.Metrics["micro_accuracy"]}");
        Assert.Equal(
            [("x", FeaturePlan.Numeric), ("noise", FeaturePlan.Numeric), ("color", FeaturePlan.Categorical)],
            model.Features.Select(f => (f.Name, f.Role)));
        Assert.Equal(300, model.TrainRows + model.HoldoutRows);
        // The gate's default metric for multiclass.
        var details = await _project.StepDetailsAsync(run.Id, "fit");
        Assert.Equal("macro_accuracy", details.GetProperty("metric").GetString());
    }

    [Fact]
    public async Task Scoring_with_the_multiclass_model_predicts_the_class_of_each_row()
    {
        _project.TrainWorkflow("train", "raw/segments.csv", """
            model: segment
            task: multiclass
            label: segment
            features: [x, color]
            options: { iterations: 50 }
            """);
        await _project.RunSucceededAsync("train");
        _project.LakeFile("raw/new.csv", "id,x,color\n1,0.5,red\n2,4.5,blue\n3,8.5,green\n4,1.2,green\n");
        _project.Workflow("score", """
            name: score
            steps:
              - id: rows
                type: read
                path: raw/new.csv
              - id: scored
                type: predict
                input: rows
                model: segment
              - id: out
                type: write
                input: scored
                path: out/scored.parquet
            """);

        await _project.RunSucceededAsync("score");

        var rows = _project.QueryLake("SELECT id, predicted_label, probability, score, model_version FROM {file} ORDER BY id", "out/scored.parquet");
        Assert.Equal(["low", "mid", "high", "low"], rows.Select(r => (string)r[1]!));
        Assert.All(rows, r => Assert.InRange((double)r[2]!, 0.5, 1.0));
        Assert.All(rows, r => Assert.Equal(1, Convert.ToInt32(r[4])));
    }
}
