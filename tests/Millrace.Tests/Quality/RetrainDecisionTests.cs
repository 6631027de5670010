using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Quality;

/// <summary>
/// <c>retrain_when</c> wired through the run-end chain (<c>RetrainPolicy</c>): a drift that does not clear asks for
/// one training within the cooldown and then is not repeated, drift on too few rows does not count, the champion's
/// realized metric below its threshold asks, and every decision is recorded with its reason.
/// </summary>
public sealed class RetrainDecisionTests : IAsyncLifetime
{
    static readonly CancellationToken None = CancellationToken.None;
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/reference.csv", "x\n" + string.Join("\n", Enumerable.Range(0, 200).Select(i => (i % 20).ToString(System.Globalization.CultureInfo.InvariantCulture))) + "\n")
            .Workflow("score", """
                name: score
                parameters: { shift: { type: int, default: 0 } }
                steps:
                  - { id: reference, type: read, path: raw/reference.csv }
                  - id: batch
                    type: sql
                    inputs: [reference]
                    sql: SELECT x + $shift AS x, ${run.date} AS day FROM reference
                  - id: drift
                    type: drift
                    inputs: [batch, reference]
                """) // run.date in the batch: each date measures anew (not up to date with the day before)
            .Workflow("retrain", """
                name: retrain
                steps:
                  - { id: marker, type: sql, sql: "SELECT 1 AS trained" }
                """)
            .Pipeline("training", "workflows: [retrain]\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    async Task<(Run Run, RetrainRecord Decision)> DriftedDayAsync(int day)
    {
        var run = (await _project.SubmitAsync("daily", ("run.date", $"2026-01-{day:00}"), ("shift", "15"))).Run;
        Assert.Equal(RunStatus.Succeeded, run.Status);
        var decision = await (await _project.StoreAsync()).GetRetrainDecisionAsync(run.Id, None);
        Assert.NotNull(decision);
        return (run, decision);
    }

    async Task<IReadOnlyList<Run>> TrainingRunsAsync() =>
        await (await _project.StoreAsync()).FindRunsAsync(new RunFilter(Target: "training"), new Page(), None);

    [Fact]
    public async Task A_drift_that_does_not_clear_triggers_exactly_one_training_within_the_cooldown()
    {
        _project.Pipeline("daily", "workflows: [score]\nretrain_when: { drift: 0.3, cooldown: 3d, pipeline: training }\n");

        var (first, asked) = await DriftedDayAsync(2);
        var (_, second) = await DriftedDayAsync(3);
        var (third, _) = await DriftedDayAsync(4);

        var training = Assert.Single(await TrainingRunsAsync());
        Assert.Equal((TriggerKind.Drift, first.Id), (training.Trigger, training.ParentRunId));
        Assert.True(asked.Asked);
        Assert.Equal(training.Id, asked.TriggeredRunId);
        Assert.StartsWith("drift PSI", asked.Reason, StringComparison.Ordinal);
        Assert.Equal(("x", 200L), (asked.WorstFeature, asked.DriftRows));
        Assert.False(second.Asked);
        Assert.Contains($"cooldown until", second.Reason, StringComparison.Ordinal);
        Assert.Contains($"last triggered training run {training.Id}", second.Reason, StringComparison.Ordinal);
        Assert.Null(second.TriggeredRunId);
        Assert.Contains(await (await _project.StoreAsync()).GetLogsAsync(third.Id, None),
            l => l.Message.StartsWith("retrain: no run of 'training' requested: cooldown until", StringComparison.Ordinal));
    }

    [Fact]
    public async Task After_the_cooldown_a_drift_that_did_not_clear_is_not_repeated_and_the_record_says_why()
    {
        // No cooldown: the second run is past it at once, and only the no-repeat rule holds it back.
        _project.Pipeline("daily", "workflows: [score]\nretrain_when: { drift: 0.3, pipeline: training }\n");

        var (_, asked) = await DriftedDayAsync(2);
        var (_, second) = await DriftedDayAsync(3);

        var training = Assert.Single(await TrainingRunsAsync());
        Assert.True(asked.Asked);
        Assert.False(second.Asked);
        Assert.Contains("did not clear", second.Reason, StringComparison.Ordinal);
        Assert.Contains($"after run {training.Id}", second.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Drift_on_fewer_rows_than_min_rows_asks_for_nothing_and_a_calm_run_records_no_trigger()
    {
        _project.Pipeline("daily", "workflows: [score]\nretrain_when: { drift: 0.3, min_rows: 500, pipeline: training }\n");

        var (_, few) = await DriftedDayAsync(2);
        var calm = (await _project.SubmitAsync("daily", ("run.date", "2026-01-03"))).Run;

        Assert.Empty(await TrainingRunsAsync());
        Assert.False(few.Asked);
        Assert.Contains("measured on 200 rows, fewer than min_rows 500", few.Reason, StringComparison.Ordinal);
        var calmDecision = await (await _project.StoreAsync()).GetRetrainDecisionAsync(calm.Id, None);
        Assert.Equal((false, "no trigger reached its threshold"), (calmDecision!.Asked, calmDecision.Reason));
    }

    [Fact]
    public async Task The_champions_realized_metric_below_the_threshold_asks_for_a_training()
    {
        _project.LakeFile("raw/customers.csv", LearningData.Customers())
            .TrainWorkflow("retrain", "raw/customers.csv", """
                model: churn
                task: binary
                label: churned
                features: { exclude: [customer_id] }
                algorithm: lightgbm
                options: { iterations: 20 }
                """)
            .Pipeline("daily", "workflows: [score]\nretrain_when: { metric: { name: auc, below: 0.8 }, pipeline: training }\n");
        await _project.RunSucceededAsync("training");
        var champion = await _project.ModelAsync("churn");
        var store = await _project.StoreAsync();

        var healthy = (await _project.SubmitAsync("daily", ("run.date", "2026-01-02"))).Run;
        Assert.False((await store.GetRetrainDecisionAsync(healthy.Id, None))!.Asked); // no realized metric yet
        await store.AddPerformanceAsync([new PerformancePoint
        {
            ProjectId = healthy.ProjectId, Model = "churn", Version = champion.Version, Variant = PredictionVariant.Champion, ScoreDate = new DateOnly(2026, 1, 2),
            Metrics = new Dictionary<string, double> { ["auc"] = 0.7 }, ScoredRows = 100, LabelledRows = 100, RunId = healthy.Id, RecordedAt = DateTimeOffset.UtcNow,
        }], None);
        var degraded = (await _project.SubmitAsync("daily", ("run.date", "2026-01-03"))).Run;

        var decision = (await store.GetRetrainDecisionAsync(degraded.Id, None))!;
        Assert.True(decision.Asked, decision.Reason);
        Assert.Equal(("metric 0.7 below 0.8", "metric", champion.Version, 0.7), (decision.Reason, decision.AskedBy, decision.ChampionVersion, decision.Metric));
        var training = Assert.Single(await TrainingRunsAsync(), r => r.Trigger == TriggerKind.Drift);
        Assert.Equal((degraded.Id, training.Id), (training.ParentRunId, decision.TriggeredRunId));
    }
}
