using Millrace.Definitions;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Definitions;

/// <summary>
/// <c>retrain_when:</c> of a pipeline: drift, metric (below / above / drop), cooldown, min_rows and reference load into
/// <see cref="RetrainDefinition"/>; each bad value is a definition error at its line and column (thresholds outside
/// the metric's range, a metric on the wrong side, a negative cooldown, <c>reference: { window }</c> not built yet).
/// </summary>
public sealed class RetrainWhenDefinitionTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.Workflow("stamp", "name: stamp\nsteps:\n  - id: d\n    type: sql\n    sql: SELECT 1 AS d\n")
            .LakeFile("raw/customers.csv", LearningData.Customers(rows: 50))
            .TrainWorkflow("train", "raw/customers.csv", "model: churn\ntask: binary\nlabel: churned\nalgorithm: lightgbm")
            .Pipeline("training", "workflows: [train]\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    IReadOnlyList<DefinitionError> Check(string retrain)
    {
        _project.Pipeline("daily", "workflows: [stamp]\nretrain_when:\n" + retrain);
        return _project.Check();
    }

    [Fact]
    public void Every_key_loads_with_its_value()
    {
        DefinitionAssert.None(Check("  drift: 0.3\n  metric: { name: auc, below: 0.8, drop: 0.03 }\n  cooldown: 3d\n  min_rows: 500\n  reference: champion\n  pipeline: training\n"));
        var retrain = _project.Open().Pipelines["daily"].RetrainWhen!;
        Assert.Equal((0.3, "training", TimeSpan.FromDays(3), 500L), (retrain.Drift, retrain.Pipeline, retrain.Cooldown, retrain.MinRows));
        Assert.Equal(("auc", 0.8, 0.03), (retrain.Metric!.Name, retrain.Metric.Worse, retrain.Metric.Drop));
    }

    [Fact]
    public void A_metric_alone_is_enough_and_a_lower_is_better_metric_takes_above()
    {
        DefinitionAssert.None(Check("  metric: { name: log_loss, above: 0.9 }\n"));
        var retrain = _project.Open().Pipelines["daily"].RetrainWhen!;
        Assert.Equal((null, TimeSpan.Zero, 0L, 0.9), (retrain.Drift, retrain.Cooldown, retrain.MinRows, retrain.Metric!.Worse));
    }

    [Theory]
    [InlineData("  drift: 0.3\n  metric: { name: auc, below: 1.5 }\n", "retrain_when.metric.below for auc must be above 0 and at most 1, got 1.5", 4, 31)]
    [InlineData("  drift: 0.3\n  metric: { name: auc, below: 0 }\n", "must be above 0 and at most 1, got 0", 4, 31)]
    [InlineData("  metric: { name: auc, drop: 1 }\n", "retrain_when.metric.drop for auc must be above 0 and below 1, got 1", 3, 30)]
    [InlineData("  metric: { name: rmse, drop: -0.1 }\n", "must be above 0, got -0.1", 3, 31)]
    [InlineData("  metric: { name: auk, below: 0.8 }\n", "unknown metric 'auk' in retrain_when.metric", 3, 19)]
    [InlineData("  metric: { name: log_loss, below: 0.5 }\n", "log_loss is better when lower: write 'above: N'", 3, 36)]
    [InlineData("  metric: { name: auc, above: 0.5 }\n", "auc is better when higher: write 'below: N'", 3, 31)]
    [InlineData("  metric: { name: auc }\n", "retrain_when.metric needs 'below'", 3, 11)]
    [InlineData("  drift: 0.3\n  cooldown: -1d\n", "retrain_when.cooldown must not be negative, got '-1d'", 4, 13)]
    [InlineData("  drift: 0.3\n  cooldown: soon\n", "field 'cooldown' must be a duration", 4, 13)]
    [InlineData("  drift: 0.3\n  min_rows: -5\n", "field 'min_rows' must be at least 0", 4, 13)]
    [InlineData("  drift: 0\n", "retrain_when.drift must be positive", 3, 10)]
    [InlineData("  pipeline: training\n", "retrain_when needs 'drift'", 3, 3)]
    [InlineData("  drift: 0.3\n  reference: { window: 30d }\n", "retrain_when.reference { window: … } is not supported yet", 4, 14)]
    [InlineData("  drift: 0.3\n  reference: latest\n", "retrain_when.reference must be 'champion'", 4, 14)]
    [InlineData("  metric: { name: rmse, above: 0.5 }\n", "'rmse' is not a realized metric of binary model 'churn'", 3, 11)]
    public void A_bad_value_is_an_error_at_its_line_and_column(string retrain, string fragment, int line, int column)
    {
        var error = DefinitionAssert.Single(Check(retrain), fragment);
        Assert.EndsWith("daily.yaml", error.Location.File, StringComparison.Ordinal);
        Assert.Equal((line, column), (error.Location.Line, error.Location.Column));
    }

    [Fact]
    public void A_metric_needs_a_training_pipeline_that_trains_one_model()
    {
        _project.Pipeline("stamping", "workflows: [stamp]\n");
        DefinitionAssert.Single(Check("  metric: { name: auc, below: 0.8 }\n  pipeline: stamping\n"), "but no train step of it registers a model");
    }
}
