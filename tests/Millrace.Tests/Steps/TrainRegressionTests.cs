using Millrace.Learning;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

/// <summary>The train step on a regression task: y = 3x + 2z plus a little noise.</summary>
public sealed class TrainRegressionTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/linear.csv", LearningData.Linear());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Theory]
    [InlineData("sdca", 0.98)]
    [InlineData("lightgbm", 0.9)]
    [InlineData("fasttree", 0.9)]
    public async Task A_linear_relation_is_learned_with_a_high_r2(string algorithm, double minimumR2)
    {
        _project.TrainWorkflow("train", "raw/linear.csv", $$"""
            model: demand
            task: regression
            label: y
            features: { exclude: [id] }
            algorithm: {{algorithm}}
            options: { iterations: 100 }
            """);

        var run = await _project.RunSucceededAsync("train");

        var model = await _project.ModelAsync("demand");
        Assert.Equal((ModelTask.Regression, algorithm), (model.Task, model.Algorithm));
        Assert.Equal(["mae", "r2", "rmse"], model.Metrics.Keys.Order(StringComparer.Ordinal));
        Assert.True(model.Metrics["r2"] > minimumR2, $"{algorithm}: r2 {model.Metrics["r2"]}");
        Assert.True(model.Metrics["rmse"] < 4, $"{algorithm}: rmse {model.Metrics["rmse"]} (y spans 0-50)");
        Assert.True(model.Metrics["mae"] <= model.Metrics["rmse"], "mae cannot exceed rmse");
        // x moves y more than z does, and noise not at all.
        Assert.Equal(["x", "z", "noise"], model.Importance.Select(i => i.Key));
        Assert.InRange(model.Importance.Sum(i => i.Value), 0.999, 1.001);
        Assert.True(model.Importance[2].Value < 0.1, $"{algorithm}: noise has {model.Importance[2].Value} of the importance");
        // Lower rmse is better: the gate's default metric for regression.
        Assert.Equal("rmse", (await _project.StepDetailsAsync(run.Id, "fit")).GetProperty("metric").GetString());
    }

    [Fact]
    public async Task Regression_predictions_are_close_to_the_true_values()
    {
        _project.TrainWorkflow("train", "raw/linear.csv", """
            model: demand
            task: regression
            label: y
            features: [x, z]
            algorithm: sdca
            """);
        await _project.RunSucceededAsync("train");
        _project.LakeFile("raw/new.csv", "id,x,z\n1,1,1\n2,5,2\n3,9,9\n");
        _project.Workflow("score", """
            name: score
            steps:
              - id: rows
                type: read
                path: raw/new.csv
              - id: scored
                type: predict
                input: rows
                model: demand@champion
              - id: out
                type: write
                input: scored
                path: out/scored.parquet
            """);

        await _project.RunSucceededAsync("score");

        var rows = _project.QueryLake("SELECT * FROM {file} ORDER BY id", "out/scored.parquet");
        var columns = TestProject.Query($"DESCRIBE SELECT * FROM read_parquet('{_project.LakePath("out/scored.parquet")}')").Select(r => (string)r[0]!);
        // A regression has a score, no probability or predicted label.
        Assert.Equal(["id", "x", "z", "score", "model_version", "run_id"], columns);
        Assert.Equal([5.0, 19.0, 45.0], rows.Select(r => Math.Round((double)r[3]!)), new ToleranceComparer(1.5));
    }

    sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }
}
