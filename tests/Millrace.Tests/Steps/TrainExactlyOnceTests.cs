using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

/// <summary>
/// A model registration is one of the workflow's effects: it commits with the workflow or not at all. A workflow
/// that fails after its train step registers no version, moves no alias and leaves no file under models/.
/// </summary>
public sealed class TrainExactlyOnceTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/customers.csv", LearningData.Customers());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    void TrainThen(string sql) => _project.Workflow("train", $"""
        name: train
        steps:
          - id: data
            type: read
            path: raw/customers.csv
          - id: fit
            type: train
            input: data
            model: churn
            task: binary
            label: churned
            features: [tickets, region]
            options: {"{"} iterations: 20 {"}"}
          - id: report
            type: sql
            input: fit
            sql: {sql}
          - id: save
            type: write
            input: report
            path: reports/metrics.csv
        """);

    [Fact]
    public async Task A_workflow_failing_after_its_train_step_registers_nothing_and_leaves_no_model_file()
    {
        TrainThen("SELECT no_such_column FROM fit");

        var run = await _project.RunAsync("train");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal(RunStatus.Succeeded, (await _project.StepRunAsync(run.Id, "fit")).Status);
        Assert.Equal(RunStatus.Failed, (await _project.StepRunAsync(run.Id, "report")).Status);
        Assert.Empty(await _project.ModelVersionsAsync("churn"));
        Assert.Empty(await _project.AliasesAsync("churn"));
        Assert.Empty(await _project.AliasHistoryAsync("churn"));
        Assert.Empty(await (await _project.StoreAsync()).ListModelsAsync(CancellationToken.None));
        Assert.Empty(_project.FilesUnder("lake/models"));
        Assert.Empty(_project.FilesUnder("lake/_staging"));
        Assert.Empty(await (await _project.StoreAsync()).GetUnpublishedFilesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task The_rerun_after_a_failure_registers_v1_exactly_once()
    {
        TrainThen("SELECT no_such_column FROM fit");
        await _project.RunAsync("train");
        TrainThen("SELECT metric, value FROM fit");

        var run = await _project.RunSucceededAsync("train");

        var version = Assert.Single(await _project.ModelVersionsAsync("churn"));
        Assert.Equal((1, run.Id), (version.Version, version.RunId));
        Assert.Equal(new Dictionary<string, int> { ["champion"] = 1 }, await _project.AliasesAsync("churn"));
        Assert.Single(await _project.AliasHistoryAsync("churn"));
        Assert.Equal(["lake/models/churn/v1/holdout.parquet", "lake/models/churn/v1/metadata.json", "lake/models/churn/v1/model.zip"], _project.FilesUnder("lake/models"));
        Assert.Empty(_project.FilesUnder("lake/_staging"));
    }

    [Fact]
    public async Task A_failed_second_training_leaves_the_first_version_and_its_champion_alone()
    {
        TrainThen("SELECT metric, value FROM fit");
        await _project.RunSucceededAsync("train");
        TrainThen("SELECT no_such_column FROM fit");

        var run = await _project.RunAsync("train");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal([1], (await _project.ModelVersionsAsync("churn")).Select(v => v.Version));
        Assert.Equal(new Dictionary<string, int> { ["champion"] = 1 }, await _project.AliasesAsync("churn"));
        Assert.Single(await _project.AliasHistoryAsync("churn"));
        Assert.Equal(["lake/models/churn/v1/holdout.parquet", "lake/models/churn/v1/metadata.json", "lake/models/churn/v1/model.zip"], _project.FilesUnder("lake/models"));
    }

    [Fact]
    public async Task In_a_pipeline_the_training_workflow_commits_on_its_own()
    {
        TrainThen("SELECT metric, value FROM fit");
        _project.Workflow("score", """
            name: score
            steps:
              - id: rows
                type: read
                path: raw/customers.csv
              - id: scored
                type: predict
                input: rows
                model: churn
              - id: broken
                type: sql
                input: scored
                sql: SELECT no_such_column FROM scored
            """);
        _project.Pipeline("nightly", "workflows: [train, score]\n");

        var run = await _project.RunAsync("nightly");

        Assert.Equal(RunStatus.Failed, run.Status);
        // train committed before score started; score's failure does not undo it.
        Assert.Equal(run.Id, Assert.Single(await _project.ModelVersionsAsync("churn")).RunId);
        Assert.True(File.Exists(_project.LakePath("models/churn/v1/model.zip")));
    }
}
