using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

/// <summary>
/// The predict step: which version a reference picks, what the output holds, that each prediction belongs to its
/// row, and what happens when the model does not exist.
/// </summary>
public sealed class PredictStepTests(TrainedChurnProject trained) : IClassFixture<TrainedChurnProject>
{
    TestProject Project => trained.Project;

    [Theory]
    [InlineData("churn", 1)]
    [InlineData("churn@champion", 1)]
    [InlineData("churn@challenger", 2)]
    [InlineData("churn@v1", 1)]
    [InlineData("churn@v2", 2)]
    public async Task A_reference_scores_with_the_version_it_names(string reference, int version)
    {
        var name = "score_" + reference.Replace('@', '_');
        trained.ScoreWorkflow(name, $"model: {reference}");

        var run = await Project.RunSucceededAsync(name);

        var versions = Project.QueryLake("SELECT DISTINCT model_version FROM {file}", $"out/{name}.parquet");
        Assert.Equal([version], versions.Select(r => Convert.ToInt32(r[0])));
        var details = await Project.StepDetailsAsync(run.Id, "scored");
        Assert.Equal(version, details.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task The_output_is_the_input_columns_then_the_predictions_the_version_and_the_run()
    {
        trained.ScoreWorkflow("score_columns", "model: churn@champion");

        var run = await Project.RunSucceededAsync("score_columns");

        var path = Project.LakePath("out/score_columns.parquet");
        var columns = TestProject.Query($"DESCRIBE SELECT * FROM read_parquet('{path}')").Select(r => ((string)r[0]!, (string)r[1]!));
        Assert.Equal(
            [.. TrainedChurnProject.InputColumns.Split(',').Select(c => (c, TypeOf(c))),
             ("score", "DOUBLE"), ("probability", "DOUBLE"), ("predicted_label", "BOOLEAN"), ("model_version", "INTEGER"), ("run_id", "VARCHAR")],
            columns);
        var summary = Project.QueryLake("SELECT count(*), count(DISTINCT customer_id), min(run_id), max(run_id), count(probability), min(probability), max(probability) FROM {file}", "out/score_columns.parquet")[0];
        Assert.Equal((200L, 200L, run.Id, run.Id, 200L), ((long)summary[0]!, (long)summary[1]!, (string)summary[2]!, (string)summary[3]!, (long)summary[4]!));
        Assert.InRange((double)summary[5]!, 0, 1);
        Assert.InRange((double)summary[6]!, 0, 1);
        Assert.Equal(200, (await Project.StepRunAsync(run.Id, "scored")).Rows);
    }

    static string TypeOf(string column) => column switch
    {
        "customer_id" or "tickets" => "BIGINT",
        "minutes" => "DOUBLE",
        "signup" => "DATE",
        "last_seen" => "TIMESTAMP",
        "premium" => "BOOLEAN",
        _ => "VARCHAR",
    };

    [Fact]
    public async Task Each_prediction_belongs_to_its_row()
    {
        // The input in another order than the file's, plus two customers with an obvious answer.
        trained.ScoreWorkflow("score_aligned", "model: churn", sql: """
            SELECT * FROM rows UNION ALL
            SELECT 1, 'north', 'pro', 'c1', 9, 50, DATE '2023-06-01', TIMESTAMP '2024-02-01 10:00:00', true UNION ALL
            SELECT 2, 'north', 'pro', 'c1', 0, 50, DATE '2023-06-01', TIMESTAMP '2024-02-01 10:00:00', true
            ORDER BY minutes DESC
            """);

        await Project.RunSucceededAsync("score_aligned");

        var rows = Project.QueryLake("SELECT customer_id, tickets, probability, predicted_label FROM {file}", "out/score_aligned.parquet");
        Assert.Equal(202, rows.Count);
        var byId = rows.ToDictionary(r => (long)r[0]!);
        Assert.True((double)byId[1][2]! > 0.8, $"a customer with 9 tickets got churn probability {byId[1][2]}");
        Assert.True((double)byId[2][2]! < 0.2, $"a customer with no ticket got churn probability {byId[2][2]}");
        var agree = rows.Count(r => (bool)r[3]! == (long)r[1]! >= 5);
        Assert.True(agree >= 190, $"only {agree} of 202 predictions follow their own row's tickets");
        // The output keeps the input's order.
        var minutes = Project.QueryLake("SELECT minutes FROM {file}", "out/score_aligned.parquet").Select(r => (double)r[0]!).ToList();
        Assert.Equal(minutes.OrderDescending(), minutes);
    }

    [Fact]
    public async Task Missing_feature_values_are_imputed_and_the_row_is_still_scored()
    {
        Project.LakeFile("raw/gaps.csv", $"{TrainedChurnProject.InputColumns}\n1,,basic,,,,,,\n2,north,pro,c7,8,12.5,2023-04-01,2024-01-02 03:00:00,true\n");
        trained.ScoreWorkflow("score_gaps", "model: churn", csv: "raw/gaps.csv",
            sql: "SELECT customer_id, region, plan, code, CAST(tickets AS BIGINT) AS tickets, CAST(minutes AS DOUBLE) AS minutes, CAST(signup AS DATE) AS signup, CAST(last_seen AS TIMESTAMP) AS last_seen, CAST(premium AS BOOLEAN) AS premium FROM rows");

        await Project.RunSucceededAsync("score_gaps");

        var rows = Project.QueryLake("SELECT customer_id, probability FROM {file} ORDER BY customer_id", "out/score_gaps.parquet");
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.InRange((double)r[1]!, 0, 1));
        Assert.True((double)rows[1][1]! > 0.8, $"8 tickets: {rows[1][1]}");
    }

    [Theory]
    [InlineData("upsell", "model 'upsell' has no registered version yet; train it first, or set on_missing_model: skip")]
    [InlineData("upsell@v1", "model 'upsell' has no registered version yet")]
    [InlineData("churn@v9", "model churn@v9 does not exist (versions: v2, v1)")]
    [InlineData("churn@staging", "model churn@staging does not exist (versions: v2, v1)")]
    public async Task A_model_version_or_alias_not_registered_yet_fails_the_run_with_a_clear_error(string reference, string message)
    {
        var name = "unknown_" + reference.Replace('@', '_');
        trained.ScoreWorkflow(name, $"model: {reference}");

        var run = await Project.RunAsync(name);

        Assert.Equal(RunStatus.Failed, run.Status);
        var step = await Project.StepRunAsync(run.Id, "scored");
        Assert.Equal(RunStatus.Failed, step.Status);
        Assert.Contains(message, step.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Project.LakePath($"out/{name}.parquet")));
    }

    [Fact]
    public async Task A_model_no_train_step_registers_is_a_definition_error()
    {
        trained.ScoreWorkflow("unknown_model", "model: chrun@champion");

        DefinitionAssert.Single(Project.Check(), "unknown model 'chrun': no train step of the project registers it");
        await Assert.ThrowsAsync<Millrace.Definitions.DefinitionException>(() => Project.RunAsync("unknown_model"));
    }

    [Fact]
    public async Task On_missing_model_skip_gives_an_empty_output_and_succeeds()
    {
        trained.ScoreWorkflow("score_skip", "model: upsell@champion\non_missing_model: skip");

        var run = await Project.RunSucceededAsync("score_skip");

        var step = await Project.StepRunAsync(run.Id, "scored");
        Assert.Equal((RunStatus.Succeeded, 0L), (step.Status, step.Rows));
        Assert.True((await Project.StepDetailsAsync(run.Id, "scored")).GetProperty("skipped").GetBoolean());
        var logs = await (await Project.StoreAsync()).GetLogsAsync(run.Id, CancellationToken.None);
        Assert.Contains(logs, l => l.StepId == "scored" && l.Level == "warn" && l.Message.Contains("nothing scored (on_missing_model: skip)", StringComparison.Ordinal));
        Assert.Equal(0L, Project.QueryLake("SELECT count(*) FROM {file}", "out/score_skip.parquet")[0][0]);
        var columns = TestProject.Query($"DESCRIBE SELECT * FROM read_parquet('{Project.LakePath("out/score_skip.parquet")}')").Select(r => (string)r[0]!);
        Assert.Equal([.. TrainedChurnProject.InputColumns.Split(','), "score", "probability", "predicted_label", "model_version", "run_id"], columns);
    }

    [Fact]
    public async Task On_missing_model_skip_still_scores_when_the_model_exists()
    {
        trained.ScoreWorkflow("score_skip_existing", "model: churn\non_missing_model: skip");

        var run = await Project.RunSucceededAsync("score_skip_existing");

        Assert.Equal(200, (await Project.StepRunAsync(run.Id, "scored")).Rows);
    }

    [Fact]
    public async Task A_malformed_reference_is_a_definition_error()
    {
        trained.ScoreWorkflow("score_malformed", "model: churn@");

        DefinitionAssert.Single(Project.Check(), "'churn@' is not a model reference: write name, name@alias or name@vN");
        await Task.CompletedTask;
    }
}
