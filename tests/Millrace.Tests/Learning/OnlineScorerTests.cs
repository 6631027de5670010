using System.Text.Json;
using Millrace.Lake;
using Millrace.Learning;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Learning;

/// <summary>
/// A class fixture: model 'scorer' with three versions trained on a real project (v1 learns y = x &gt; 0.5 and is
/// champion; v2 and v3 learn the opposite). One feature is named <c>odd/na~me "q"</c>, so that
/// field names reach DuckDB whatever they hold. Tests move aliases by hand and put champion back on v1 afterwards.
/// </summary>
public sealed class ScorerModels : IAsyncLifetime
{
    public TestProject Project { get; } = new();

    public async Task InitializeAsync()
    {
        var rows = string.Join("\n", Enumerable.Range(0, 400).Select(i => $"{i},{i % 100 / 100.0:0.00},{(i % 3 == 0 ? "a" : "b")}"));
        Project.LakeFile("raw/train.csv", "id,x,tag\n" + rows + "\n").Workflow("train", """"
            name: train
            parameters: { flip: { type: bool, default: false } }
            steps:
              - { id: data, type: read, path: raw/train.csv }
              - id: labelled
                type: sql
                inputs: [data]
                sql: SELECT x, tag AS "odd/na~me ""q""", (x > 0.5) <> $flip AS y FROM data
              - id: model
                type: train
                input: labelled
                model: scorer
                task: binary
                label: y
                algorithm: logistic
                promote: { metric: auc, min_improvement: 0.5 }
            """");
        await Project.RunSucceededAsync("train");
        await Project.RunSucceededAsync("train", ("flip", "true"));
        // One more row: the same training inputs again would register no new version.
        Project.LakeFile("raw/train.csv", "id,x,tag\n" + rows + "\n400,0.99,b\n");
        await Project.RunSucceededAsync("train", ("flip", "true"));
        // Each version wins on its own holdout; start from v1 as champion.
        await PointAsync("champion", 1);
    }

    public Task DisposeAsync() => Project.DisposeAsync().AsTask();

    /// <summary>Points <paramref name="alias"/> at <paramref name="version"/>.</summary>
    public async Task PointAsync(string alias, int version) =>
        await new ModelRegistry(await Project.StoreAsync(), LakeRoot.Open(Project.Open())).PromoteAsync("scorer", version, alias, "test", "test", CancellationToken.None);
}

/// <summary>
/// <see cref="OnlineScorer"/> on real models, store and DuckDB: predictions in row order, the cache's bounds, an alias
/// move dropping the version it left, one load shared by concurrent calls, and rows that do not fit.
/// </summary>
public sealed class OnlineScorerTests(ScorerModels models) : IClassFixture<ScorerModels>, IAsyncLifetime
{
    static readonly CancellationToken None = CancellationToken.None;
    static readonly JsonElement Rows = JsonDocument.Parse("""[{"x": 0.9, "odd/na~me \"q\"": "a"}, {"x": 0.1}, {"x": 0.8, "extra": 1}]""").RootElement;
    int _lakesOpened;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await models.PointAsync("champion", 1);

    async Task<OnlineScorer> ScorerAsync(OnlineScorerOptions? options = null, Func<Task>? beforeLoad = null)
    {
        var store = await models.Project.StoreAsync();
        var project = models.Project.Open();
        return new OnlineScorer(store, () =>
        {
            Interlocked.Increment(ref _lakesOpened);
            beforeLoad?.Invoke().GetAwaiter().GetResult();
            return LakeRoot.Open(project);
        }, options);
    }

    static ModelReference Champion => new("scorer", null, ModelRegistry.Champion);

    static ModelReference Version(int version) => new("scorer", version, null);

    [Fact]
    public async Task Rows_are_scored_in_order_with_the_champion_and_fields_that_are_not_features_are_named()
    {
        using var scorer = await ScorerAsync();
        var scores = await scorer.ScoreAsync(Champion, Rows, None);

        Assert.NotNull(scores);
        Assert.Equal(1, scores.Model.Version);
        Assert.Equal(3, scores.Predictions.Count);
        Assert.True(scores.Predictions[0].Probability > 0.5);
        Assert.True(scores.Predictions[1].Probability < 0.5);
        Assert.Equal(true, scores.Predictions[0].PredictedLabel);
        Assert.Equal(["extra"], scores.IgnoredFields);
        Assert.Null(await scorer.ScoreAsync(new ModelReference("nope", null, "champion"), Rows, None));
        Assert.Null(await scorer.ScoreAsync(Version(9), Rows, None));
    }

    [Fact]
    public async Task The_cache_holds_at_most_its_count_of_models_and_drops_the_least_recently_used()
    {
        using var scorer = await ScorerAsync(new OnlineScorerOptions { MaxModels = 2 });
        await scorer.ScoreAsync(Version(1), Rows, None);
        await scorer.ScoreAsync(Version(2), Rows, None);
        await scorer.ScoreAsync(Version(1), Rows, None); // v1 is now the most recent: v2 goes next
        await scorer.ScoreAsync(Version(3), Rows, None);

        Assert.Equal(2, scorer.CachedModels);
        Assert.True(scorer.IsCached("scorer", 1));
        Assert.False(scorer.IsCached("scorer", 2));
        Assert.True(scorer.IsCached("scorer", 3));
        Assert.Equal(3, _lakesOpened);
        await scorer.ScoreAsync(Version(2), Rows, None);
        Assert.Equal(4, _lakesOpened); // loaded again after its eviction
    }

    [Fact]
    public async Task The_cache_holds_at_most_its_bytes_of_models_but_always_the_one_in_use()
    {
        using var scorer = await ScorerAsync(new OnlineScorerOptions { MaxBytes = 1 });
        await scorer.ScoreAsync(Version(1), Rows, None);
        Assert.True(scorer.IsCached("scorer", 1));
        var scores = await scorer.ScoreAsync(Version(2), Rows, None);

        Assert.Equal(2, scores!.Model.Version);
        Assert.Equal(1, scorer.CachedModels);
        Assert.True(scorer.IsCached("scorer", 2));
    }

    [Fact]
    public async Task An_alias_that_moves_drops_the_version_it_left_unless_another_alias_still_points_at_it()
    {
        using var scorer = await ScorerAsync();
        Assert.Equal(1, (await scorer.ScoreAsync(Champion, Rows, None))!.Model.Version);
        await models.PointAsync("champion", 2);
        var moved = await scorer.ScoreAsync(Champion, Rows, None);

        Assert.Equal(2, moved!.Model.Version);
        Assert.True(moved.Predictions[0].Probability < 0.5); // v2 learnt the opposite
        Assert.False(scorer.IsCached("scorer", 1));
        Assert.True(scorer.IsCached("scorer", 2));

        await models.PointAsync("challenger", 2);
        await scorer.ScoreAsync(new ModelReference("scorer", null, "challenger"), Rows, None);
        await models.PointAsync("champion", 3);
        await scorer.ScoreAsync(Champion, Rows, None);
        Assert.True(scorer.IsCached("scorer", 2)); // challenger still points at v2
        Assert.True(scorer.IsCached("scorer", 3));
    }

    [Fact]
    public async Task Concurrent_calls_for_a_model_not_yet_loaded_share_one_load_and_each_get_their_own_rows_scored()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var scorer = await ScorerAsync(beforeLoad: () => release.Task);
        var calls = Enumerable.Range(0, 6).Select(i => Task.Run(() => scorer.ScoreAsync(Champion,
            JsonDocument.Parse($$"""[{"x": {{(i % 2 == 0 ? "0.95" : "0.05")}}}]""").RootElement, None))).ToList();
        release.SetResult();
        var results = await Task.WhenAll(calls);

        Assert.Equal(1, _lakesOpened);
        for (var i = 0; i < results.Length; i++)
            Assert.Equal(i % 2 == 0, results[i]!.Predictions.Single().Probability > 0.5);
    }

    [Fact]
    public async Task A_value_that_does_not_convert_to_its_feature_type_names_its_row_and_feature()
    {
        using var scorer = await ScorerAsync();
        var rows = JsonDocument.Parse("""[{"x": 0.5}, {"x": 0.7}, {"x": {"nested": true}}]""").RootElement;
        var error = await Assert.ThrowsAsync<RowsDoNotFitException>(() => scorer.ScoreAsync(Champion, rows, None));

        Assert.Contains("model scorer@v1", error.Message, StringComparison.Ordinal);
        Assert.Contains("row 3, feature 'x'", error.Message, StringComparison.Ordinal);
        Assert.Contains("is not a DOUBLE", error.Message, StringComparison.Ordinal);
    }
}

/// <summary><see cref="LoadedModelCache"/> alone: loads shared while under way, failed loads not kept.</summary>
public sealed class LoadedModelCacheTests
{
    static LoadedModel Model(long bytes = 10) => new(new Microsoft.ML.MLContext(), null!, bytes);

    [Fact]
    public async Task A_second_caller_waits_for_the_load_under_way_instead_of_loading_again()
    {
        using var cache = new LoadedModelCache(4, 1 << 20);
        var release = new TaskCompletionSource<LoadedModel>(TaskCreationOptions.RunContinuationsAsynchronously);
        var loads = 0;
        Task<LoadedModel> Load(CancellationToken ct) { Interlocked.Increment(ref loads); return release.Task; }

        var first = cache.GetAsync("m", 1, Load, CancellationToken.None);
        var second = cache.GetAsync("m", 1, Load, CancellationToken.None);
        release.SetResult(Model());

        Assert.Same(await first, await second);
        Assert.Equal(1, loads);
        Assert.Equal(10, cache.Bytes);
    }

    [Fact]
    public async Task A_failed_load_is_not_kept_and_the_next_caller_loads_again()
    {
        using var cache = new LoadedModelCache(4, 1 << 20);
        await Assert.ThrowsAsync<IOException>(() => cache.GetAsync("m", 1, _ => throw new IOException("gone"), CancellationToken.None));
        Assert.Equal(0, cache.Count);

        var loaded = await cache.GetAsync("m", 1, _ => Task.FromResult(Model()), CancellationToken.None);
        Assert.Equal(10, loaded.Bytes);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public async Task A_caller_that_gives_up_stops_waiting_and_the_load_still_serves_the_others()
    {
        using var cache = new LoadedModelCache(4, 1 << 20);
        var release = new TaskCompletionSource<LoadedModel>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var impatient = new CancellationTokenSource();
        var first = cache.GetAsync("m", 1, _ => release.Task, impatient.Token);
        await impatient.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);

        var second = cache.GetAsync("m", 1, _ => throw new InvalidOperationException("must not load again"), CancellationToken.None);
        release.SetResult(Model());
        Assert.Equal(10, (await second).Bytes);
    }
}
