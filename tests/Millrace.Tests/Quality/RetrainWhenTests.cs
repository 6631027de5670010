using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Quality;

/// <summary><c>retrain_when</c>: a run whose drift reaches the threshold requests a run of the training pipeline.</summary>
public sealed class RetrainWhenTests : IAsyncLifetime
{
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
                    sql: SELECT x + $shift AS x FROM reference
                  - id: drift
                    type: drift
                    inputs: [batch, reference]
                """)
            .Workflow("retrain", """
                name: retrain
                steps:
                  - { id: marker, type: sql, sql: "SELECT 1 AS trained" }
                """)
            .Pipeline("daily", "workflows: [score]\nretrain_when: { drift: 0.3, pipeline: training }\n")
            .Pipeline("training", "workflows: [retrain]\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public async Task Drift_above_the_threshold_runs_the_training_pipeline_and_below_it_does_not()
    {
        var calm = (await _project.SubmitAsync("daily", ("run.date", "2026-01-01"))).Run;
        Assert.Equal(RunStatus.Succeeded, calm.Status);
        var store = await _project.StoreAsync();
        Assert.DoesNotContain(await store.FindRunsAsync(new RunFilter(Target: "training"), new Page(), CancellationToken.None), _ => true);

        var drifted = (await _project.SubmitAsync("daily", ("run.date", "2026-01-02"), ("shift", "15"))).Run;
        Assert.Equal(RunStatus.Succeeded, drifted.Status);
        var training = Assert.Single(await store.FindRunsAsync(new RunFilter(Target: "training"), new Page(), CancellationToken.None));
        Assert.Equal(TriggerKind.Drift, training.Trigger);
        Assert.Equal(drifted.Id, training.ParentRunId);
        Assert.Equal(new DateOnly(2026, 1, 2), training.RunDate);
        Assert.Equal(RunStatus.Succeeded, training.Status);
        Assert.Contains((await store.GetLogsAsync(drifted.Id, CancellationToken.None)), l => l.Message.Contains("requesting a run of 'training'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_retrain_pipeline_that_does_not_exist_is_a_validation_error()
    {
        _project.Pipeline("daily", "workflows: [score]\nretrain_when: { drift: 0.3, pipeline: trainnig }\n");
        var error = DefinitionAssert.Single(_project.Check(), "retrain_when names pipeline 'trainnig'");
        Assert.Contains("did you mean 'training'", error.Message, StringComparison.Ordinal);
    }
}
