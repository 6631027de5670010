using Microsoft.ML;
using Millrace.Engine;
using Millrace.Lake;
using Millrace.Learning;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Learning;

/// <summary>
/// <see cref="ModelRegistry"/> over a real SQLite store: resolving references, promoting by hand and rolling back to
/// the previous champion, each change recorded in the alias history.
/// </summary>
public sealed class ModelRegistryTests : IAsyncLifetime
{
    static readonly CancellationToken None = CancellationToken.None;
    readonly TempDirectory _folder = new("registry");
    IMetadataStore _store = null!;
    ModelRegistry _registry = null!;

    public async Task InitializeAsync()
    {
        _store = await SqliteMetadataStore.OpenAsync(Path.Combine(_folder.Path, "millrace.db"), None);
        _registry = new ModelRegistry(_store, new LakeRoot(Path.Combine(_folder.Path, "lake")));
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _folder.Dispose();
    }

    static ModelVersion Model(int version) => new()
    {
        Name = "churn", Version = version, RunId = $"run-{version}", Workflow = "train", StepId = "fit", CreatedAt = DateTimeOffset.UtcNow,
        Task = ModelTask.Binary, Algorithm = "lightgbm", Label = "churned", Path = $"models/churn/v{version}/model.zip",
        Metrics = new Dictionary<string, double> { ["auc"] = 0.7 + version / 100.0 }, Options = new Dictionary<string, string>(),
        Features = [new FeatureColumn("tickets", "BIGINT", FeaturePlan.Numeric, "none")], Datasets = [], Importance = [new("tickets", 1.0)],
        DefinitionsHash = "hash", TrainRows = 80, HoldoutRows = 20,
    };

    /// <summary>Registers the next version as a train run would: champion when <paramref name="promoted"/>, else challenger.</summary>
    async Task RegisterAsync(int version, bool promoted)
    {
        var aliases = await _store.GetAliasesAsync("churn", None);
        var alias = promoted ? ModelRegistry.Champion : ModelRegistry.Challenger;
        int? current = aliases.TryGetValue(alias, out var c) ? c : null;
        await _store.CommitAsync(new WorkflowCommit($"run-{version}", "train", [], [])
        {
            Models = [Model(version)],
            AliasChanges = [new AliasChange("churn", alias, version, current, $"run run-{version}", promoted ? "better" : "not better")],
        }, None);
    }

    async Task<int> ChampionAsync() => (await _store.GetAliasesAsync("churn", None))[ModelRegistry.Champion];

    [Fact]
    public async Task References_resolve_to_the_champion_a_version_or_an_alias()
    {
        await RegisterAsync(1, promoted: true);
        await RegisterAsync(2, promoted: false);

        Assert.Equal(1, (await _registry.ResolveAsync(ModelReference.Parse("churn"), None))!.Version);
        Assert.Equal(1, (await _registry.ResolveAsync(ModelReference.Parse("churn@champion"), None))!.Version);
        Assert.Equal(2, (await _registry.ResolveAsync(ModelReference.Parse("churn@challenger"), None))!.Version);
        Assert.Equal(2, (await _registry.ResolveAsync(ModelReference.Parse("churn@v2"), None))!.Version);
        Assert.Null(await _registry.ResolveAsync(ModelReference.Parse("churn@v3"), None));
        Assert.Null(await _registry.ResolveAsync(ModelReference.Parse("churn@staging"), None));
        Assert.Null(await _registry.ResolveAsync(ModelReference.Parse("upsell"), None));
    }

    [Fact]
    public async Task Rollback_restores_the_previous_champion_and_records_it()
    {
        await RegisterAsync(1, promoted: true);
        await RegisterAsync(2, promoted: true);

        var (from, to) = await _registry.RollbackAsync("churn", "cli:ann", None);

        Assert.Equal((2, 1), (from, to));
        Assert.Equal(1, await ChampionAsync());
        var latest = (await _store.GetAliasHistoryAsync("churn", None))[0];
        Assert.Equal(("champion", (int?)1, (int?)2, "cli:ann", "rollback from v2", (string?)null),
            (latest.Alias, latest.Version, latest.PreviousVersion, latest.Actor, latest.Reason, latest.RunId));
        Assert.Equal(1, (await _registry.ResolveAsync(ModelReference.Parse("churn"), None))!.Version);
    }

    [Fact]
    public async Task A_promotion_by_hand_then_a_rollback_are_both_recorded_and_restore_the_champion()
    {
        await RegisterAsync(1, promoted: true);
        await RegisterAsync(2, promoted: false);

        var previous = await _registry.PromoteAsync("churn", 2, ModelRegistry.Champion, "cli:ann", "the challenger looks better on recent data", None);

        Assert.Equal(1, previous);
        Assert.Equal(2, await ChampionAsync());

        var (from, to) = await _registry.RollbackAsync("churn", "cli:bob", None);

        Assert.Equal((2, 1), (from, to));
        Assert.Equal(1, await ChampionAsync());
        var history = await _store.GetAliasHistoryAsync("churn", None);
        Assert.Equal(
            [("champion", (int?)1, (int?)2, "cli:bob", "rollback from v2"),
             ("champion", 2, 1, "cli:ann", "the challenger looks better on recent data"),
             ("challenger", 2, null, "run run-2", "not better"),
             ("champion", 1, null, "run run-1", "better")],
            history.Select(h => (h.Alias, h.Version, h.PreviousVersion, h.Actor, h.Reason)));
    }

    [Fact]
    public async Task Promote_can_point_any_alias_and_returns_what_it_pointed_at()
    {
        await RegisterAsync(1, promoted: true);
        await RegisterAsync(2, promoted: false);

        Assert.Null(await _registry.PromoteAsync("churn", 2, "production", "cli:ann", "pin", None));
        Assert.Equal(2, await _registry.PromoteAsync("churn", 1, "production", "cli:ann", "unpin", None));

        Assert.Equal(new Dictionary<string, int> { ["challenger"] = 2, ["champion"] = 1, ["production"] = 1 }, await _store.GetAliasesAsync("churn", None));
    }

    [Fact]
    public async Task Promoting_a_version_that_does_not_exist_is_a_clear_error_and_changes_nothing()
    {
        await RegisterAsync(1, promoted: true);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _registry.PromoteAsync("churn", 7, ModelRegistry.Champion, "cli:ann", "typo", None));

        Assert.Equal("model 'churn' has no version v7", error.Message);
        Assert.Equal(1, await ChampionAsync());
        Assert.Single(await _store.GetAliasHistoryAsync("churn", None));
    }

    [Fact]
    public async Task Rollback_with_no_previous_champion_is_a_clear_error()
    {
        await RegisterAsync(1, promoted: true);
        await RegisterAsync(2, promoted: false);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _registry.RollbackAsync("churn", "cli:ann", None));

        Assert.Equal("model 'churn' champion v1 has no previous champion to roll back to", error.Message);
        Assert.Equal(1, await ChampionAsync());
        Assert.Equal(2, (await _store.GetAliasHistoryAsync("churn", None)).Count);
    }

    [Fact]
    public async Task Rollback_of_a_model_without_a_champion_is_a_clear_error()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _registry.RollbackAsync("churn", "cli:ann", None));

        Assert.Equal("model 'churn' has no champion to roll back", error.Message);
    }

    [Fact]
    public async Task Rollbacks_walk_back_the_chain_of_champions()
    {
        await RegisterAsync(1, promoted: true);
        await RegisterAsync(2, promoted: true);
        await RegisterAsync(3, promoted: true);

        Assert.Equal((3, 2), await _registry.RollbackAsync("churn", "cli:ann", None));
        Assert.Equal((2, 1), await _registry.RollbackAsync("churn", "cli:ann", None));
        await Assert.ThrowsAsync<InvalidOperationException>(() => _registry.RollbackAsync("churn", "cli:ann", None));

        Assert.Equal(1, await ChampionAsync());
        Assert.Equal(5, (await _store.GetAliasHistoryAsync("churn", None)).Count);
    }

    [Fact]
    public async Task Loading_a_version_whose_file_is_missing_names_the_file()
    {
        await RegisterAsync(1, promoted: true);
        var version = (await _registry.ResolveAsync(ModelReference.Parse("churn"), None))!;

        var error = await Assert.ThrowsAsync<StepFailedException>(() => _registry.LoadAsync(new MLContext(0), version, None));

        Assert.Equal("model churn@v1 is registered but its file models/churn/v1/model.zip is missing from the lake", error.Message);
    }
}
