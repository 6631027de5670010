using DuckDB.NET.Data;
using Microsoft.ML;
using Millrace.Learning;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

/// <summary>
/// A saved model reloads and scores identically: two runs give the same predictions bit for bit, and so does ML.NET
/// loading <c>models/churn/v1/model.zip</c> from the lake directly and scoring the same rows through a
/// <see cref="DuckDbDataView"/>.
/// </summary>
public sealed class PredictReloadTests(TrainedChurnProject trained) : IClassFixture<TrainedChurnProject>
{
    TestProject Project => trained.Project;

    const string Predictions = "SELECT customer_id, score, probability, predicted_label FROM {file} ORDER BY customer_id";

    [Fact]
    public async Task Two_runs_score_the_same_rows_identically()
    {
        trained.ScoreWorkflow("reload_first", "model: churn@v1");
        var first = await Project.RunSucceededAsync("reload_first");
        trained.ScoreWorkflow("reload_second", "model: churn@v1");
        var second = await Project.RunSucceededAsync("reload_second");

        Assert.NotEqual(first.Id, second.Id);
        var a = Project.QueryLake(Predictions, "out/reload_first.parquet");
        var b = Project.QueryLake(Predictions, "out/reload_second.parquet");
        Assert.Equal(200, a.Count);
        Assert.Equal(a, b);
        Assert.True(a.Select(r => (double)r[2]!).Distinct().Count() > 10, "the predictions should differ between customers");
    }

    [Fact]
    public async Task ML_NET_loading_the_lake_file_scores_the_same_as_the_predict_step()
    {
        trained.ScoreWorkflow("reload_direct", "model: churn@v1");
        await Project.RunSucceededAsync("reload_direct");
        var version = await Project.ModelAsync("churn", 1);

        var ml = new MLContext(seed: 123);
        ITransformer model;
        using (var stream = File.OpenRead(Project.LakePath("models/churn/v1/model.zip"))) model = ml.Model.Load(stream, out _);
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"CREATE TABLE input AS SELECT * FROM read_csv('{Project.LakePath("raw/score.csv")}')";
            command.ExecuteNonQuery();
        }
        var view = new DuckDbDataView(connection, "input", ModelBuilder.ViewColumns(version.Features, version.Task, version.Label, hasLabel: false), orderBy: "customer_id");
        var scored = model.Transform(view);
        var direct = new List<object?[]>();
        using (var cursor = scored.GetRowCursor(scored.Schema))
        {
            var score = cursor.GetGetter<float>(scored.Schema["Score"]);
            var probability = cursor.GetGetter<float>(scored.Schema["Probability"]);
            var label = cursor.GetGetter<bool>(scored.Schema["PredictedLabel"]);
            float s = 0, p = 0;
            var l = false;
            while (cursor.MoveNext())
            {
                score(ref s); probability(ref p); label(ref l);
                direct.Add([(double)s, (double)p, l]);
            }
        }

        var fromStep = Project.QueryLake(Predictions, "out/reload_direct.parquet").Select(r => r[1..]).ToList();
        Assert.Equal(200, direct.Count);
        Assert.Equal(direct, fromStep);
    }
}
