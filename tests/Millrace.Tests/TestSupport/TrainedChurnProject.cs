namespace Millrace.Tests.TestSupport;

/// <summary>
/// A class fixture: a project whose model 'churn' has v1 (trained on the informative columns, champion) and v2
/// (trained on noise only, kept as challenger), and whose model 'upsell' has a train step that never ran. Tests add
/// scoring workflows (each replaces the previous test's) and run them; they must not train.
/// </summary>
public sealed class TrainedChurnProject : IAsyncLifetime
{
    readonly List<string> _scoringWorkflows = [];

    public TestProject Project { get; } = new();

    /// <summary>Columns of the scoring input <c>raw/score.csv</c> (the training columns without the label).</summary>
    public const string InputColumns = "customer_id,region,plan,code,tickets,minutes,signup,last_seen,premium";

    public async Task InitializeAsync()
    {
        Project.LakeFile("raw/customers.csv", LearningData.Customers());
        // 200 customers never seen in training (other ids, another seed), without the label.
        var fresh = LearningData.Customers(rows: 200, seed: 99, firstId: 10_001).Split('\n');
        Project.LakeFile("raw/score.csv", string.Join('\n', fresh.Select(line => line.Length == 0 ? line : line[..line.LastIndexOf(',')])));
        foreach (var features in new[] { "{ exclude: [customer_id] }", "[minutes, premium]" })
        {
            Project.TrainWorkflow("train", "raw/customers.csv", $$"""
                model: churn
                task: binary
                label: churned
                features: {{features}}
                options: { iterations: 30 }
                """);
            await Project.RunSucceededAsync("train");
        }
        var aliases = await Project.AliasesAsync("churn");
        Assert.Equal((1, 2), (aliases["champion"], aliases["challenger"]));
        Project.TrainWorkflow("train_upsell", "raw/customers.csv", """
            model: upsell
            task: binary
            label: premium
            """);
    }

    /// <summary>
    /// Writes workflow <paramref name="name"/> (removing the previous scoring workflows): read <paramref name="csv"/>,
    /// optionally run <paramref name="sql"/> over it (as table <c>rows</c>), predict with <paramref name="predictFields"/>,
    /// write the scores to <c>out/&lt;name&gt;.parquet</c>.
    /// </summary>
    public void ScoreWorkflow(string name, string predictFields, string csv = "raw/score.csv", string? sql = null)
    {
        foreach (var previous in _scoringWorkflows) File.Delete(Path.Combine(Project.Directory, "workflows", previous + ".yaml"));
        _scoringWorkflows.Clear();
        _scoringWorkflows.Add(name);
        var prepare = sql is null ? "" : $"""

              - id: prepared
                type: sql
                input: rows
                sql: |
            {LearningProject.Indent(sql, "      ")}
            """;
        Project.Workflow(name, $"""
            name: {name}
            steps:
              - id: rows
                type: read
                path: {csv}{prepare}
              - id: scored
                type: predict
                input: {(sql is null ? "rows" : "prepared")}
            {LearningProject.Indent(predictFields, "    ")}
              - id: out
                type: write
                input: scored
                path: out/{name}.parquet
            """);
    }

    public Task DisposeAsync() => Project.DisposeAsync().AsTask();
}
