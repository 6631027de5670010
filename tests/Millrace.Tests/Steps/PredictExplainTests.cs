using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

/// <summary>
/// <c>explain: N</c> on the predict step: the reason columns, their order, what a skipped step writes, and the
/// definition errors for a value outside 1 to 20. (What the contributions are: <see cref="Learning.FeatureContributionTests"/>.)
/// </summary>
public sealed class PredictExplainTests(TrainedChurnProject trained) : IClassFixture<TrainedChurnProject>
{
    TestProject Project => trained.Project;

    static readonly string[] Features = ["region", "plan", "code", "tickets", "minutes", "signup", "last_seen", "premium"];

    [Fact]
    public async Task Explain_3_adds_three_reasons_and_their_contributions_after_the_prediction_largest_first()
    {
        trained.ScoreWorkflow("explained", "model: churn\nexplain: 3");

        var run = await Project.RunSucceededAsync("explained");

        var path = Project.LakePath("out/explained.parquet");
        var columns = TestProject.Query($"DESCRIBE SELECT * FROM read_parquet('{path}')").Select(r => ((string)r[0]!, (string)r[1]!)).ToList();
        Assert.Equal(
            [("model_version", "INTEGER"), ("run_id", "VARCHAR"),
             ("reason_1", "VARCHAR"), ("reason_1_contribution", "DOUBLE"), ("reason_2", "VARCHAR"), ("reason_2_contribution", "DOUBLE"),
             ("reason_3", "VARCHAR"), ("reason_3_contribution", "DOUBLE")],
            columns[^8..]);
        var rows = Project.QueryLake("SELECT tickets, reason_1, reason_1_contribution, reason_2, reason_2_contribution, reason_3, reason_3_contribution FROM {file}", "out/explained.parquet");
        Assert.Equal(200, rows.Count);
        foreach (var row in rows)
        {
            var names = new[] { (string)row[1]!, (string)row[3]!, (string)row[5]! };
            var contributions = new[] { (double)row[2]!, (double)row[4]!, (double)row[6]! };
            Assert.All(names, n => Assert.Contains(n, Features));
            Assert.Equal(3, names.Distinct().Count());
            Assert.True(Math.Abs(contributions[0]) >= Math.Abs(contributions[1]) && Math.Abs(contributions[1]) >= Math.Abs(contributions[2]), string.Join(", ", contributions));
        }
        // The model learned churn = tickets >= 5: tickets is the first reason, pushing towards churn when high.
        var ticketsFirst = rows.Where(r => (string)r[1]! == "tickets").ToList();
        Assert.True(ticketsFirst.Count >= 180, $"tickets is the first reason of {ticketsFirst.Count} rows of 200");
        Assert.All(ticketsFirst, r => Assert.Equal((long)r[0]! >= 5, (double)r[2]! > 0));
        Assert.Equal(3, (await Project.StepDetailsAsync(run.Id, "scored")).GetProperty("explain").GetInt32());
    }

    [Fact]
    public async Task Asking_for_more_reasons_than_the_model_has_columns_leaves_the_rest_null()
    {
        // v2 was trained on minutes and premium only.
        trained.ScoreWorkflow("explained_v2", "model: churn@v2\nexplain: 20");

        await Project.RunSucceededAsync("explained_v2");

        var counts = Project.QueryLake("SELECT count(reason_1), count(reason_2), count(reason_3), count(reason_20_contribution), count(*) FROM {file}", "out/explained_v2.parquet")[0];
        Assert.Equal(200L, (long)counts[4]!);
        Assert.True((long)counts[0]! > 190, $"{counts[0]} rows have a first reason");
        Assert.Equal([0L, 0L], counts[2..4].Select(c => (long)c!));
        var names = Project.QueryLake("SELECT DISTINCT reason_1 FROM {file} WHERE reason_1 IS NOT NULL UNION SELECT DISTINCT reason_2 FROM {file} WHERE reason_2 IS NOT NULL", "out/explained_v2.parquet");
        Assert.Subset(new HashSet<string> { "minutes", "premium" }, names.Select(r => (string)r[0]!).ToHashSet());
    }

    [Fact]
    public async Task A_skipped_step_writes_the_reason_columns_too()
    {
        trained.ScoreWorkflow("explained_skip", "model: upsell\nexplain: 2\non_missing_model: skip");

        await Project.RunSucceededAsync("explained_skip");

        var path = Project.LakePath("out/explained_skip.parquet");
        var columns = TestProject.Query($"DESCRIBE SELECT * FROM read_parquet('{path}')").Select(r => (string)r[0]!).ToList();
        Assert.Equal(["run_id", "reason_1", "reason_1_contribution", "reason_2", "reason_2_contribution"], columns[^5..]);
    }

    [Theory]
    [InlineData("0", "field 'explain' must be at least 1, got 0")]
    [InlineData("21", "explain must be between 1 and 20, got 21")]
    [InlineData("-3", "field 'explain' must be at least 1, got -3")]
    [InlineData("many", "field 'explain' must be an integer")]
    [InlineData("2.5", "field 'explain' must be an integer")]
    public void An_explain_outside_1_to_20_is_a_definition_error_at_its_value(string value, string message)
    {
        trained.ScoreWorkflow("bad_explain", $"model: churn\nexplain: {value}");

        var error = DefinitionAssert.Single(Project.Check(), message);

        Assert.EndsWith("bad_explain.yaml", error.Location.File, StringComparison.Ordinal);
        Assert.Equal((10, 14), (error.Location.Line, error.Location.Column));
    }
}
