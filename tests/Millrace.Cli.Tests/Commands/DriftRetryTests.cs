using Millrace.Cli.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Cli.Tests.Commands;

/// <summary>
/// What a run asks for after its workflows (a drift-triggered retraining) is decided from what all its workflows
/// recorded, including those an earlier attempt committed: a run killed after the drift was measured and committed,
/// then retried, still asks for the retraining, once.
/// </summary>
[Trait("Category", "Security")]
public sealed class DriftRetryTests : IDisposable
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    readonly TempDirectory _directory = new();

    public DriftRetryTests()
    {
        _directory.Write("millrace.yaml", "id: drift_retry\n");
        _directory.Write("lake/raw/reference.csv", "x\n" + string.Join("\n", Enumerable.Range(0, 200).Select(i => (i % 20).ToString(System.Globalization.CultureInfo.InvariantCulture))) + "\n");
        _directory.Write("workflows/score.yaml", """
            name: score
            parameters: { shift: { type: int, default: 0 } }
            steps:
              - { id: reference, type: read, path: raw/reference.csv }
              - id: batch
                type: sql
                inputs: [reference]
                sql: SELECT x + $shift AS x FROM reference
              - id: drift
                type: drift
                inputs: [batch, reference]
              - { id: keep, type: write, input: batch, dataset: batches }
            """);
        _directory.Write("workflows/insights.yaml", """
            name: insights
            steps:
              - { id: summary, type: sql, inputs: [batches], sql: "SELECT count(*) AS n, avg(x) AS mean FROM batches" }
              - { id: out, type: write, input: summary, path: "reports/summary/dt=${run.date}/summary.csv" }
            """);
        _directory.Write("workflows/retrain.yaml", """
            name: retrain
            steps:
              - { id: marker, type: sql, sql: "SELECT 1 AS trained" }
            """);
        _directory.Write("pipelines/daily.yaml", "workflows: [score, insights]\nretrain_when: { drift: 0.3, pipeline: training }\n");
        _directory.Write("pipelines/training.yaml", "workflows: [retrain]\n");
    }

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData("insights.commit.before")]
    [InlineData("insights.summary.before")]
    [InlineData("score.commit.after")]
    public async Task A_retry_of_a_drifted_run_killed_after_the_drift_was_committed_asks_for_the_retraining(string point)
    {
        var crashed = await Shell.RunProcessAsync(new Dictionary<string, string> { ["MILLRACE_FAULT"] = point }, Timeout,
            "run", "daily", "-p", _directory.Path, "--var", "run.date=2026-01-02", "--var", "shift=15");
        Assert.True(crashed.ExitCode != 0 && crashed.Error.Contains($"killing the process at {point}", StringComparison.Ordinal), crashed.ToString());
        var original = Assert.Single(await Committed.RunsAsync(_directory.Path));

        var retried = await Shell.RunAsync("retry", original.Id, "-p", _directory.Path);
        Assert.True(retried.ExitCode == 0, retried.ToString());

        var runs = await Committed.RunsAsync(_directory.Path);
        var retry = runs.Single(r => r.ParentRunId == original.Id && r.Trigger == TriggerKind.Retry);
        Assert.Equal(RunStatus.Succeeded, retry.Status);
        var training = Assert.Single(runs, r => r.Target == "training");
        Assert.Equal(TriggerKind.Drift, training.Trigger);
        Assert.Equal(retry.Id, training.ParentRunId);
        Assert.Equal(RunStatus.Succeeded, training.Status);
    }

    [Fact]
    public async Task A_retry_of_a_calm_run_asks_for_nothing()
    {
        var crashed = await Shell.RunProcessAsync(new Dictionary<string, string> { ["MILLRACE_FAULT"] = "insights.commit.before" }, Timeout,
            "run", "daily", "-p", _directory.Path, "--var", "run.date=2026-01-02");
        Assert.True(crashed.ExitCode != 0, crashed.ToString());
        var original = Assert.Single(await Committed.RunsAsync(_directory.Path));
        var retried = await Shell.RunAsync("retry", original.Id, "-p", _directory.Path);
        Assert.True(retried.ExitCode == 0, retried.ToString());
        Assert.DoesNotContain(await Committed.RunsAsync(_directory.Path), r => r.Target == "training");
    }
}
