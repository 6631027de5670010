using DuckDB.NET.Data;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Millrace.Learning;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Learning;

/// <summary>
/// What the contributions behind <c>explain</c> are, checked against the models' own parameters: for linear models
/// every slot's contribution plus the bias is the raw score; for tree ensembles each slot's contribution is ML.NET's
/// counterfactual one (the row's leaf value minus the leaf value when one decision on the path is reversed, summed
/// over the trees), recomputed here from the public trees, and their sum is not the raw score.
/// </summary>
public sealed class FeatureContributionTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/customers.csv", LearningData.Customers(rows: 300));
        _project.LakeFile("raw/linear.csv", LearningData.Linear());
        _project.LakeFile("raw/segments.csv", LearningData.Segments());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    async Task<(ModelVersion Version, ITransformer Model, string Csv)> TrainAsync(string task, string algorithm)
    {
        var (csv, label, features) = task == "binary" ? ("raw/customers.csv", "churned", "{ exclude: [customer_id] }") : ("raw/linear.csv", "y", "{ exclude: [id] }");
        _project.TrainWorkflow("train", csv, $$"""
            model: m
            task: {{task}}
            label: {{label}}
            features: {{features}}
            algorithm: {{algorithm}}
            options: { iterations: 20 }
            """);
        await _project.RunSucceededAsync("train");
        var version = await _project.ModelAsync("m");
        var model = await new ModelRegistry(await _project.StoreAsync(), new Millrace.Lake.LakeRoot(_project.LakeDirectory)).LoadAsync(new MLContext(0), version, CancellationToken.None);
        return (version, model, _project.LakePath(csv));
    }

    /// <summary>Per row of <paramref name="csv"/>: the Features vector, the raw score and ML.NET's contributions of every slot.</summary>
    static List<(float[] Features, float Score, float[] Contributions)> Explain(ITransformer model, ModelVersion version, string csv)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"CREATE TABLE rows AS SELECT * FROM read_csv('{csv}')";
            command.ExecuteNonQuery();
        }
        var ml = new MLContext(0);
        var view = new DuckDbDataView(connection, "rows", ModelBuilder.ViewColumns(version.Features, version.Task, version.Label, hasLabel: false));
        var explained = FeatureContributions.For(ml, model, version, view, 3).Transform(model.Transform(view));
        var rows = new List<(float[], float, float[])>();
        using var cursor = explained.GetRowCursor(explained.Schema);
        var features = cursor.GetGetter<VBuffer<float>>(explained.Schema["Features"]);
        var score = cursor.GetGetter<float>(explained.Schema["Score"]);
        var contributions = cursor.GetGetter<VBuffer<float>>(explained.Schema[FeatureContributions.Column]);
        VBuffer<float> f = default, c = default;
        float s = 0;
        while (cursor.MoveNext())
        {
            features(ref f); score(ref s); contributions(ref c);
            rows.Add((f.DenseValues().ToArray(), s, c.DenseValues().ToArray()));
        }
        return rows;
    }

    static object Parameters(ITransformer model)
    {
        var parameters = ((IEnumerable<ITransformer>)model).OfType<ISingleFeaturePredictionTransformer<object>>().Last().Model;
        return parameters is CalibratedModelParametersBase calibrated ? calibrated.SubModel : parameters;
    }

    [Theory]
    [InlineData("binary", "logistic")]
    [InlineData("binary", "sdca")]
    [InlineData("regression", "sdca")]
    public async Task For_a_linear_model_the_contributions_of_all_slots_plus_the_bias_are_the_raw_score(string task, string algorithm)
    {
        var (version, model, csv) = await TrainAsync(task, algorithm);
        var linear = Assert.IsAssignableFrom<LinearModelParameters>(Parameters(model));

        var rows = Explain(model, version, csv);

        Assert.Equal(300, rows.Count);
        foreach (var (features, score, contributions) in rows)
        {
            Assert.Equal(score, contributions.Sum(c => (double)c) + linear.Bias, 1e-4);
            // Each slot's contribution is its weight times its (normalized) value.
            for (var i = 0; i < features.Length; i++) Assert.Equal(linear.Weights[i] * features[i], contributions[i], 1e-5);
        }
    }

    [Theory]
    [InlineData("regression", "fasttree")]
    [InlineData("regression", "lightgbm")]
    [InlineData("binary", "fasttree")]
    [InlineData("binary", "lightgbm")]
    public async Task For_a_tree_model_each_contribution_is_the_change_from_reversing_its_decisions_and_they_do_not_add_up_to_the_score(string task, string algorithm)
    {
        var (version, model, csv) = await TrainAsync(task, algorithm);
        var ensemble = Assert.IsAssignableFrom<TreeEnsembleModelParametersBasedOnRegressionTree>(Parameters(model)).TrainedTreeEnsemble;

        var rows = Explain(model, version, csv);

        var gaps = new List<double>();
        foreach (var (features, score, contributions) in rows)
        {
            var expected = new double[features.Length];
            var output = ensemble.Bias;
            for (var t = 0; t < ensemble.Trees.Count; t++)
            {
                var tree = ensemble.Trees[t];
                var leaf = Leaf(tree, features, 0);
                output += ensemble.TreeWeights[t] * tree.LeafValues[leaf];
                // Walk the path; at each node, the leaf reached by going the other way from there.
                for (var node = 0; node >= 0;)
                {
                    var left = features[tree.NumericalSplitFeatureIndexes[node]] <= tree.NumericalSplitThresholds[node];
                    var ghost = Leaf(tree, features, left ? tree.RightChild[node] : tree.LeftChild[node]);
                    expected[tree.NumericalSplitFeatureIndexes[node]] += tree.LeafValues[leaf] - tree.LeafValues[ghost];
                    node = left ? tree.LeftChild[node] : tree.RightChild[node];
                }
            }
            Assert.Equal(score, output, 1e-4);
            for (var i = 0; i < features.Length; i++) Assert.Equal(expected[i], contributions[i], 1e-4);
            gaps.Add(Math.Abs(score - ensemble.Bias - contributions.Sum(c => (double)c)));
        }
        // Not additive: the sum with the bias misses the raw score on most rows.
        Assert.True(gaps.Count(g => g > 1e-3) > rows.Count / 2, $"{gaps.Count(g => g > 1e-3)} of {rows.Count} rows miss the score");
    }

    [Fact]
    public async Task Through_the_predict_step_the_reasons_of_a_linear_model_plus_its_bias_are_its_score()
    {
        var (_, model, _) = await TrainAsync("regression", "sdca");
        var bias = Assert.IsAssignableFrom<LinearModelParameters>(Parameters(model)).Bias;
        ScoreWorkflow("raw/linear.csv", "explain: 3");

        await _project.RunSucceededAsync("score");

        // Three input columns (x, z, noise), three reasons: all of the score but the bias.
        var rows = _project.QueryLake("SELECT score, reason_1_contribution + reason_2_contribution + reason_3_contribution, reason_1, x, z FROM {file}", "out/scored.parquet");
        Assert.Equal(300, rows.Count);
        Assert.All(rows, r => Assert.Equal((double)r[0]!, (double)r[1]! + bias, 1e-4));
        // y = 3x + 2z: x moves the score most unless z is well above it.
        Assert.All(rows.Where(r => (double)r[3]! > 2 * (double)r[4]! + 1), r => Assert.Equal("x", r[2]));
    }

    [Fact]
    public async Task A_multiclass_model_cannot_explain_and_the_step_error_names_its_trainer()
    {
        _project.TrainWorkflow("train", "raw/segments.csv", """
            model: m
            task: multiclass
            label: segment
            features: [x, noise, color]
            algorithm: lightgbm
            options: { iterations: 10 }
            """);
        await _project.RunSucceededAsync("train");
        ScoreWorkflow("raw/segments.csv", "explain: 3");

        var run = await _project.RunAsync("score");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("explain: 3: model m@v1 (multiclass, lightgbm) cannot explain its predictions: ML.NET computes feature contributions for binary and regression models only",
            (await _project.StepRunAsync(run.Id, "scored")).Error, StringComparison.Ordinal);
        Assert.False(File.Exists(_project.LakePath("out/scored.parquet")));
    }

    void ScoreWorkflow(string csv, string fields) => _project.Workflow("score", $$"""
        name: score
        steps:
          - { id: rows, type: read, path: {{csv}} }
          - { id: scored, type: predict, input: rows, model: m, {{fields}} }
          - { id: out, type: write, input: scored, path: out/scored.parquet }
        """);

    /// <summary>The leaf a row reaches from <paramref name="node"/> (a leaf is ~index in the child arrays).</summary>
    static int Leaf(RegressionTree tree, float[] features, int node)
    {
        while (node >= 0)
            node = features[tree.NumericalSplitFeatureIndexes[node]] <= tree.NumericalSplitThresholds[node] ? tree.LeftChild[node] : tree.RightChild[node];
        return ~node;
    }
}
