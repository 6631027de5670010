using Microsoft.Extensions.Time.Testing;
using Millrace.Deadlines;
using Millrace.Engine;
using Millrace.Lake;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Deadlines;

/// <summary>
/// freshness: on the folder lake and on an S3 lake (s3rver, started by ./test.sh; skipped without it): a feed with no
/// file for the date at <c>by</c> is missed once; a feed whose files are there is not; files that arrive later mark
/// the miss met late. Only the date's folder is listed, so other dates' files never count.
/// </summary>
public sealed class FreshnessTests : IAsyncLifetime
{
    static readonly DateOnly Day = new(2026, 7, 15);
    // 05:00 in Berlin on 15 July (summer, CEST).
    static readonly DateTimeOffset Due = new(2026, 7, 15, 3, 0, 0, TimeSpan.Zero);
    readonly FakeTimeProvider _clock = new(Due + TimeSpan.FromSeconds(30));
    TestProject? _project;
    S3TestBucket? _bucket;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_project is not null) await _project.DisposeAsync();
        _bucket?.Dispose();
    }

    async Task<TestProject> ProjectAsync(string lake)
    {
        var yaml = "id: shop\n";
        if (lake == "s3")
        {
            _bucket = await S3TestBucket.CreateAsync();
            yaml += _bucket.LakeYaml();
        }
        _project = new TestProject("shop", yaml)
            .Workflow("one", "name: one\nsteps:\n  - id: a\n    type: sql\n    sql: SELECT 1 AS n\n")
            .Pipeline("daily", """
                name: daily
                workflows: [one]
                freshness:
                  - { feed: "raw/events/dt={date}/*.csv", by: "05:00", timezone: Europe/Berlin }
                  - { feed: "raw/customers/dt={date}/*.csv", by: "05:00", timezone: Europe/Berlin }
                """);
        return _project;
    }

    async Task LandAsync(string lake, string path)
    {
        if (lake == "s3") await _bucket!.PutAsync("lake/" + path, "id\n1\n");
        else _project!.LakeFile(path, "id\n1\n");
    }

    async Task<DeadlineEvaluation> EvaluateAsync() =>
        await new DeadlineEvaluator(_project!.Open(), await _project.StoreAsync(), LakeRoot.Open(_project.Open()), _clock, NodeIdentity.Named("node-a"))
            { Lookback = TimeSpan.FromHours(1) }.EvaluateAsync(CancellationToken.None);

    [SkippableTheory]
    [InlineData("folder")]
    [InlineData("s3")]
    public async Task A_feed_without_files_for_the_date_is_missed_once_and_a_feed_with_files_is_not(string lake)
    {
        await ProjectAsync(lake);
        await LandAsync(lake, "raw/customers/dt=2026-07-15/part-1.csv");
        // Files of other dates, a marker and a file of another extension do not make the events feed fresh.
        await LandAsync(lake, "raw/events/dt=2026-07-14/part-1.csv");
        await LandAsync(lake, "raw/events/dt=2026-07-15/_SUCCESS");
        await LandAsync(lake, "raw/events/dt=2026-07-15/notes.txt");

        var first = await EvaluateAsync();
        _clock.Advance(TimeSpan.FromSeconds(30));
        var second = await EvaluateAsync();

        var miss = Assert.Single(first.Recorded);
        Assert.Equal((DeadlineKind.Freshness, "raw/events/dt={date}/*.csv", Day, Due, "no file matches raw/events/dt=2026-07-15/*.csv"),
            (miss.Kind, miss.Feed, miss.RunDate, miss.DueAt, miss.Missing));
        Assert.Equal([("raw/customers/dt={date}/*.csv", false), ("raw/events/dt={date}/*.csv", true)],
            first.Checks.Select(c => (c.Feed, c.Missed)).OrderBy(c => c.Feed, StringComparer.Ordinal));
        Assert.Empty(first.Problems);
        Assert.Empty(second.Recorded);
        var anomaly = Assert.Single(await (await _project!.StoreAsync()).FindAnomaliesAsync(null, new Page(), CancellationToken.None));
        Assert.Equal("freshness_missed", anomaly.Kind);
        Assert.Contains("feed raw/events/dt=2026-07-15/*.csv had no file by 05:00 Europe/Berlin", anomaly.Message);
    }

    [SkippableTheory]
    [InlineData("folder")]
    [InlineData("s3")]
    public async Task Files_that_land_after_by_leave_the_miss_and_mark_it_met_late(string lake)
    {
        await ProjectAsync(lake);
        await LandAsync(lake, "raw/customers/dt=2026-07-15/part-1.csv");
        Assert.Single((await EvaluateAsync()).Recorded);

        await LandAsync(lake, "raw/events/dt=2026-07-15/part-1.csv");
        _clock.Advance(TimeSpan.FromMinutes(10));
        var later = await EvaluateAsync();

        Assert.Empty(later.Recorded);
        var check = later.Checks.Single(c => c.Feed.StartsWith("raw/events", StringComparison.Ordinal));
        Assert.Equal((true, _clock.GetUtcNow()), (check.Missed, check.MetAt));
        var listed = Assert.Single(await (await _project!.StoreAsync()).ListDeadlineMissesAsync("shop", "daily", Day, Day, CancellationToken.None));
        Assert.Equal(_clock.GetUtcNow(), listed.MetAt);
    }

    [SkippableFact]
    public async Task A_lake_that_cannot_be_listed_is_a_problem_of_the_check_not_a_miss_and_the_deadline_is_still_evaluated()
    {
        // Credentials and endpoint of the test server, and a bucket that does not exist.
        using var bucket = await S3TestBucket.CreateAsync();
        _project = new TestProject("shop", $"id: shop\nlake: s3://no-such-bucket-{Guid.NewGuid():N}/lake\nlake_options: {{ endpoint: \"{S3TestBucket.Endpoint}\" }}\n")
            .Workflow("one", "name: one\nsteps:\n  - id: a\n    type: sql\n    sql: SELECT 1 AS n\n")
            .Pipeline("daily", """
                name: daily
                workflows: [one]
                deadline: { by: "05:00", timezone: Europe/Berlin }
                freshness: { feed: "raw/events/dt={date}/*.csv", by: "05:00", timezone: Europe/Berlin }
                """);

        var evaluation = await EvaluateAsync();

        var problem = Assert.Single(evaluation.Problems);
        Assert.Contains("freshness of raw/events/dt={date}/*.csv for 2026-07-15 could not be checked", problem);
        Assert.Contains("does not exist", problem);
        Assert.Equal(DeadlineKind.Deadline, Assert.Single(evaluation.Recorded).Kind);
    }
}
