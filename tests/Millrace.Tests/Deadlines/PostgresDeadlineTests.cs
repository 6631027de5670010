using Microsoft.Extensions.Time.Testing;
using Millrace.Deadlines;
using Millrace.Engine;
using Millrace.Lake;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Deadlines;

/// <summary>
/// Two evaluators (two nodes) on one PostgreSQL store record a missed deadline once, with one anomaly. Needs
/// <c>MILLRACE_TEST_POSTGRES</c> (./test.sh starts a server); skipped without it.
/// </summary>
public sealed class PostgresDeadlineTests
{
    [SkippableFact]
    public async Task Two_nodes_on_one_postgres_store_record_a_miss_once()
    {
        await using var database = await PostgresTestDatabase.CreateAsync("millrace_deadlines");
        await using var project = new TestProject("shop", $"id: shop\nstore: '{database.ConnectionString}'\n")
            .Workflow("one", "name: one\nsteps:\n  - id: a\n    type: sql\n    sql: SELECT 1 AS n\n")
            .Pipeline("daily", "name: daily\nworkflows: [one]\ndeadline: { by: \"07:00\", timezone: Europe/Berlin }\n");
        var definition = project.Open();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 15, 6, 0, 30, TimeSpan.Zero));
        await using var storeA = await MetadataStores.OpenAsync(definition, CancellationToken.None, create: true, clock);
        await using var storeB = await MetadataStores.OpenAsync(definition, CancellationToken.None, create: true, clock);
        var lake = LakeRoot.Open(definition);
        var nodeA = new DeadlineEvaluator(definition, storeA, lake, clock, NodeIdentity.Named("node-a")) { Lookback = TimeSpan.FromHours(1) };
        var nodeB = new DeadlineEvaluator(definition, storeB, lake, clock, NodeIdentity.Named("node-b")) { Lookback = TimeSpan.FromHours(1) };

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => (i % 2 == 0 ? nodeA : nodeB).EvaluateAsync(CancellationToken.None)));

        var recorded = Assert.Single(results.SelectMany(r => r.Recorded));
        var listed = Assert.Single(await storeA.ListDeadlineMissesAsync("shop", "daily", recorded.RunDate, recorded.RunDate, CancellationToken.None));
        Assert.Equal(recorded.Node, listed.Node);
        Assert.Equal(recorded.AnomalyId, Assert.Single(await storeB.FindAnomaliesAsync(null, new Page(), CancellationToken.None)).Id);
    }
}
