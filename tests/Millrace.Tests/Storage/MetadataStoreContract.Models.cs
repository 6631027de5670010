using Millrace.Storage;

namespace Millrace.Tests.Storage;

/// <summary>The model registry part of the store contract: versions, aliases and the history of alias changes.</summary>
public abstract partial class MetadataStoreContract
{
    protected static ModelVersion NewModel(string name, int version, string runId = "run-1", double auc = 0.8) => new()
    {
        Name = name,
        Version = version,
        RunId = runId,
        Workflow = "train",
        StepId = "fit",
        CreatedAt = T0,
        Task = ModelTask.Binary,
        Algorithm = "lightgbm",
        Label = "churned",
        Path = $"models/{name}/v{version}/model.zip",
        Metrics = new Dictionary<string, double> { ["auc"] = auc, ["log_loss"] = 0.123456789012345, ["tp"] = 17 },
        Options = new Dictionary<string, string> { ["iterations"] = "100", ["validation"] = "time 0.2 by as_of" },
        Features =
        [
            new FeatureColumn("region", "VARCHAR", "categorical", "onehot"),
            new FeatureColumn("tenure_days", "BIGINT", "numeric", "none"),
            new FeatureColumn("as_of", "DATE", "date", "none"),
        ],
        Datasets = ["customer_features@v12", "churn_labels@v3"],
        Importance = [new("tenure_days", 0.7), new("region", 0.2), new("as_of", 0.1)],
        DefinitionsHash = "hash-" + runId,
        TrainRows = 800,
        HoldoutRows = 200,
    };

    protected static WorkflowCommit ModelCommit(string runId, ModelVersion[] models, params AliasChange[] changes) =>
        new(runId, "train", [], []) { Models = models, AliasChanges = changes };

    protected static AliasChange Change(string model, string alias, int? version, int? expected, string actor = "test", string reason = "because") =>
        new(model, alias, version, expected, actor, reason);

    static void AssertSameModel(ModelVersion expected, ModelVersion? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(
            (expected.Name, expected.Version, expected.RunId, expected.Workflow, expected.StepId, expected.Task, expected.Algorithm, expected.Label, expected.Path, expected.DefinitionsHash, expected.TrainRows, expected.HoldoutRows),
            (actual.Name, actual.Version, actual.RunId, actual.Workflow, actual.StepId, actual.Task, actual.Algorithm, actual.Label, actual.Path, actual.DefinitionsHash, actual.TrainRows, actual.HoldoutRows));
        Assert.Equal(expected.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal), actual.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal));
        Assert.Equal(expected.Options.OrderBy(m => m.Key, StringComparer.Ordinal), actual.Options.OrderBy(m => m.Key, StringComparer.Ordinal));
        Assert.Equal(expected.Features, actual.Features);
        Assert.Equal(expected.Datasets, actual.Datasets);
        Assert.Equal(expected.Importance, actual.Importance);
    }

    // ---- model versions ----

    [SkippableFact]
    public async Task A_model_version_registered_by_a_commit_reads_back_with_every_field()
    {
        var model = NewModel("churn", 1);
        var before = DateTimeOffset.UtcNow;

        await Store.CommitAsync(ModelCommit("run-1", [model], Change("churn", "champion", 1, null)), None);

        var read = await Store.GetModelVersionAsync("churn", 1, null, None);
        AssertSameModel(model, read);
        // Registered when the commit made it visible.
        Assert.InRange(read!.CreatedAt, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(["churn"], await Store.ListModelsAsync(None));
    }

    [SkippableFact]
    public async Task A_version_is_found_by_number_by_alias_or_as_the_latest()
    {
        await Store.CommitAsync(ModelCommit("run-1", [NewModel("churn", 1, "run-1")], Change("churn", "champion", 1, null)), None);
        await Store.CommitAsync(ModelCommit("run-2", [NewModel("churn", 2, "run-2")], Change("churn", "challenger", 2, null)), None);
        await Store.CommitAsync(ModelCommit("run-3", [NewModel("churn", 3, "run-3")]), None);

        Assert.Equal("run-2", (await Store.GetModelVersionAsync("churn", 2, null, None))!.RunId);
        Assert.Equal(1, (await Store.GetModelVersionAsync("churn", null, "champion", None))!.Version);
        Assert.Equal(2, (await Store.GetModelVersionAsync("churn", null, "challenger", None))!.Version);
        Assert.Equal(3, (await Store.GetModelVersionAsync("churn", null, null, None))!.Version);
        // A version number wins over an alias.
        Assert.Equal(3, (await Store.GetModelVersionAsync("churn", 3, "champion", None))!.Version);
        Assert.Equal([3, 2, 1], (await Store.ListModelVersionsAsync("churn", None)).Select(v => v.Version));
    }

    [SkippableFact]
    public async Task Unknown_models_versions_and_aliases_are_null_or_empty()
    {
        await Store.CommitAsync(ModelCommit("run-1", [NewModel("churn", 1)], Change("churn", "champion", 1, null)), None);

        Assert.Null(await Store.GetModelVersionAsync("churn", 2, null, None));
        Assert.Null(await Store.GetModelVersionAsync("churn", null, "staging", None));
        Assert.Null(await Store.GetModelVersionAsync("upsell", null, null, None));
        Assert.Null(await Store.GetModelVersionAsync("upsell", null, "champion", None));
        Assert.Empty(await Store.ListModelVersionsAsync("upsell", None));
        Assert.Empty(await Store.GetAliasesAsync("upsell", None));
        Assert.Empty(await Store.GetAliasHistoryAsync("upsell", None));
    }

    [SkippableFact]
    public async Task Models_and_their_aliases_are_kept_apart()
    {
        await Store.CommitAsync(ModelCommit("run-1", [NewModel("upsell", 1), NewModel("churn", 1)],
            Change("upsell", "champion", 1, null), Change("churn", "champion", 1, null)), None);
        await Store.CommitAsync(ModelCommit("run-2", [NewModel("churn", 2, "run-2")], Change("churn", "champion", 2, 1)), None);

        Assert.Equal(["churn", "upsell"], await Store.ListModelsAsync(None));
        Assert.Equal(new Dictionary<string, int> { ["champion"] = 2 }, await Store.GetAliasesAsync("churn", None));
        Assert.Equal(new Dictionary<string, int> { ["champion"] = 1 }, await Store.GetAliasesAsync("upsell", None));
        Assert.Single(await Store.GetAliasHistoryAsync("upsell", None));
        Assert.Equal(2, (await Store.GetAliasHistoryAsync("churn", None)).Count);
    }

    [SkippableFact]
    public async Task Registering_a_version_that_exists_conflicts_and_commits_nothing()
    {
        await Store.CommitAsync(ModelCommit("run-1", [NewModel("churn", 1, "run-1")], Change("churn", "champion", 1, null)), None);
        var duplicate = new WorkflowCommit("run-2", "train", [(NewVersion("scores", 1, "run-2"), null)],
            [new StagedFile("_staging/run-2/train/fit/model.zip", "models/churn/v1/model.zip")])
        {
            Models = [NewModel("upsell", 1, "run-2"), NewModel("churn", 1, "run-2")],
            AliasChanges = [Change("upsell", "champion", 1, null), Change("churn", "challenger", 1, null)],
        };

        var error = await Assert.ThrowsAsync<CommitConflictException>(() => Store.CommitAsync(duplicate, None));

        Assert.StartsWith(CommitConflictException.Marker, error.Message);
        Assert.Contains("'churn' v1", error.Message);
        Assert.Equal("run-1", (await Store.GetModelVersionAsync("churn", 1, null, None))!.RunId);
        Assert.Null(await Store.GetModelVersionAsync("upsell", 1, null, None));
        Assert.Equal(["churn"], await Store.ListModelsAsync(None));
        Assert.Equal(new Dictionary<string, int> { ["champion"] = 1 }, await Store.GetAliasesAsync("churn", None));
        Assert.Single(await Store.GetAliasHistoryAsync("churn", None));
        Assert.Null(await Store.GetDatasetVersionAsync("scores", null, None));
        Assert.Empty(await Store.GetUnpublishedFilesAsync(None));
    }

    [SkippableFact]
    public async Task A_gate_decision_based_on_a_stale_champion_conflicts_and_registers_nothing()
    {
        await Store.CommitAsync(ModelCommit("run-1", [NewModel("churn", 1, "run-1")], Change("churn", "champion", 1, null)), None);
        await Store.CommitAsync(ModelCommit("run-2", [NewModel("churn", 2, "run-2")], Change("churn", "champion", 2, 1)), None);
        // run-3 decided while the champion was still v1.
        var stale = ModelCommit("run-3", [NewModel("churn", 3, "run-3")], Change("churn", "champion", 3, 1));

        var error = await Assert.ThrowsAsync<CommitConflictException>(() => Store.CommitAsync(stale, None));

        Assert.StartsWith(CommitConflictException.Marker, error.Message);
        Assert.Contains("churn@champion", error.Message);
        Assert.Null(await Store.GetModelVersionAsync("churn", 3, null, None));
        Assert.Equal(2, (await Store.GetModelVersionAsync("churn", null, "champion", None))!.Version);
        Assert.Equal(2, (await Store.GetAliasHistoryAsync("churn", None)).Count);
    }

    [SkippableFact]
    public async Task Alias_changes_apply_together_or_not_at_all()
    {
        await Store.CommitAsync(ModelCommit("run-1", [NewModel("churn", 1, "run-1"), NewModel("churn", 2, "run-1")],
            Change("churn", "champion", 1, null), Change("churn", "challenger", 2, null)), None);

        // The first change is valid, the second expects challenger at v1: neither is applied.
        await Assert.ThrowsAsync<CommitConflictException>(() => Store.ChangeAliasesAsync(
            [Change("churn", "champion", 2, 1), Change("churn", "challenger", null, 1)], null, None));

        Assert.Equal(new Dictionary<string, int> { ["challenger"] = 2, ["champion"] = 1 }, await Store.GetAliasesAsync("churn", None));
        Assert.Equal(2, (await Store.GetAliasHistoryAsync("churn", None)).Count);
    }

    [SkippableFact]
    public async Task Changing_aliases_moves_adds_and_removes_them_and_records_each_change()
    {
        await Store.CommitAsync(ModelCommit("run-1", [NewModel("churn", 1, "run-1"), NewModel("churn", 2, "run-1")],
            Change("churn", "champion", 1, null), Change("churn", "challenger", 2, null)), None);

        await Store.ChangeAliasesAsync(
            [Change("churn", "champion", 2, 1, "cli:ann", "promoted by hand"), Change("churn", "challenger", null, 2, "cli:ann", "now champion"),
             Change("churn", "production", 1, null, "cli:ann", "pinned")], null, None);

        Assert.Equal(new Dictionary<string, int> { ["champion"] = 2, ["production"] = 1 }, await Store.GetAliasesAsync("churn", None));
        var history = await Store.GetAliasHistoryAsync("churn", None);
        // Newest first; the changes of one call in reverse order of application.
        Assert.Equal(
            [("production", (int?)1, (int?)null, "pinned"), ("challenger", null, 2, "now champion"), ("champion", 2, 1, "promoted by hand"),
             ("challenger", 2, null, "because"), ("champion", 1, null, "because")],
            history.Select(h => (h.Alias, h.Version, h.PreviousVersion, h.Reason)));
        Assert.All(history.Take(3), h => Assert.Equal(("cli:ann", (string?)null), (h.Actor, h.RunId)));
        Assert.All(history.Skip(3), h => Assert.Equal("run-1", h.RunId));
        Assert.Equal(2, (await Store.GetModelVersionAsync("churn", null, "champion", None))!.Version);
        Assert.Null(await Store.GetModelVersionAsync("churn", null, "challenger", None));
    }

    [SkippableFact]
    public async Task An_alias_change_that_changes_nothing_is_not_recorded()
    {
        await Store.CommitAsync(ModelCommit("run-1", [NewModel("churn", 1)], Change("churn", "champion", 1, null)), None);

        await Store.ChangeAliasesAsync([Change("churn", "champion", 1, 1)], null, None);

        Assert.Single(await Store.GetAliasHistoryAsync("churn", None));
    }

    [SkippableFact]
    public async Task Alias_history_is_newest_first_across_commits()
    {
        await Store.CommitAsync(ModelCommit("run-1", [NewModel("churn", 1, "run-1")], Change("churn", "champion", 1, null)), None);
        for (var v = 2; v <= 5; v++)
            await Store.CommitAsync(ModelCommit($"run-{v}", [NewModel("churn", v, $"run-{v}")], Change("churn", "champion", v, v - 1)), None);

        var history = await Store.GetAliasHistoryAsync("churn", None);

        Assert.Equal([5, 4, 3, 2, 1], history.Select(h => h.Version!.Value));
        Assert.Equal([4, 3, 2, 1, (int?)null], history.Select(h => h.PreviousVersion));
        Assert.Equal(["run-5", "run-4", "run-3", "run-2", "run-1"], history.Select(h => h.RunId));
        Assert.True(history.Zip(history.Skip(1)).All(p => p.First.At >= p.Second.At));
    }
}
