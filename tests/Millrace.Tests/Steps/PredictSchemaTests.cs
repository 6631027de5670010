using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

/// <summary>The predict step checks its input against the model's feature schema; each error names the column.</summary>
public sealed class PredictSchemaTests(TrainedChurnProject trained) : IClassFixture<TrainedChurnProject>
{
    TestProject Project => trained.Project;

    async Task<string> ScoreFailsAsync(string name, string sql)
    {
        trained.ScoreWorkflow(name, "model: churn@champion", sql: sql);
        var run = await Project.RunAsync(name);
        Assert.Equal(RunStatus.Failed, run.Status);
        var step = await Project.StepRunAsync(run.Id, "scored");
        Assert.Equal(RunStatus.Failed, step.Status);
        Assert.Equal(RunStatus.Skipped, (await Project.StepRunAsync(run.Id, "out")).Status);
        Assert.False(File.Exists(Project.LakePath($"out/{name}.parquet")));
        Assert.Contains("step 'scored'", run.Error, StringComparison.Ordinal);
        return step.Error!;
    }

    [Fact]
    public async Task A_missing_feature_column_is_named()
    {
        var error = await ScoreFailsAsync("missing_column", "SELECT * EXCLUDE (tickets) FROM rows");

        Assert.Equal("the input does not fit model churn@v1: missing column 'tickets' (BIGINT)", error);
    }

    [Fact]
    public async Task Text_where_a_number_was_trained_is_named_with_both_types()
    {
        var error = await ScoreFailsAsync("text_for_number", "SELECT * REPLACE ('many' AS tickets) FROM rows");

        Assert.Equal("the input does not fit model churn@v1: column 'tickets' is VARCHAR, the model was trained on BIGINT", error);
    }

    [Fact]
    public async Task A_number_where_text_was_trained_is_named()
    {
        var error = await ScoreFailsAsync("number_for_text", "SELECT * REPLACE (42 AS region) FROM rows");

        Assert.Contains("column 'region' is INTEGER, the model was trained on VARCHAR", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_problem_is_listed_at_once()
    {
        var error = await ScoreFailsAsync("many_problems", "SELECT * EXCLUDE (signup, premium) REPLACE ('x' AS minutes) FROM rows");

        Assert.Contains("column 'minutes' is VARCHAR, the model was trained on DOUBLE", error, StringComparison.Ordinal);
        Assert.Contains("missing column 'signup' (DATE)", error, StringComparison.Ordinal);
        Assert.Contains("missing column 'premium' (BOOLEAN)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compatible_types_are_accepted()
    {
        // An INTEGER for a BIGINT feature, a number for a boolean, a TIMESTAMP for a DATE, extra columns: all fine.
        trained.ScoreWorkflow("compatible", "model: churn@champion",
            sql: "SELECT * REPLACE (CAST(tickets AS INTEGER) AS tickets, CAST(premium AS INTEGER) AS premium, CAST(signup AS TIMESTAMP) AS signup), 'extra' AS note FROM rows");

        var run = await Project.RunSucceededAsync("compatible");

        Assert.Equal(200, (await Project.StepRunAsync(run.Id, "scored")).Rows);
        Assert.Equal("extra", Project.QueryLake("SELECT DISTINCT note FROM {file}", "out/compatible.parquet").Single()[0]);
    }

    [Fact]
    public async Task The_features_a_version_did_not_use_are_not_required()
    {
        // v2 was trained on minutes and premium only.
        trained.ScoreWorkflow("v2_subset", "model: churn@v2", sql: "SELECT customer_id, minutes, premium FROM rows");

        var run = await Project.RunSucceededAsync("v2_subset");

        Assert.Equal(200, (await Project.StepRunAsync(run.Id, "scored")).Rows);
    }
}
