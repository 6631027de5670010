using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Millrace.Engine;
using Millrace.Server.Tests.TestSupport;
using Millrace.Server.Triggers;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Server.Tests.Triggers;

/// <summary>
/// Two servers on one PostgreSQL store, both polling the same landing trigger on one lake, start each date once, and
/// a late file once more: the run keys hold across nodes. Skipped without <c>MILLRACE_TEST_POSTGRES</c>.
/// </summary>
public sealed class LandingClusterTests : IAsyncLifetime
{
    readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 3, 3, 6, 0, 0, TimeSpan.Zero));
    PostgresTestDatabase? _database;
    ProjectFolder? _project;
    TestServer? _first;
    TestServer? _second;

    public async Task InitializeAsync()
    {
        if (PostgresTestDatabase.Server is null) return;
        _database = await PostgresTestDatabase.CreateAsync("millrace_landing_cluster");
        _project = new ProjectFolder("feeds", $"id: feeds\nstore: '{_database.ConnectionString}'\n")
            .Workflow("stamp", "name: stamp\nsteps:\n  - id: d\n    type: sql\n    sql: SELECT ${run.date} AS d\n")
            .Pipeline("daily", "workflows: [stamp]\ntrigger:\n  when_landed: [\"raw/events/dt={date}/*.csv\"]\n  settle: 0s\n  poll: 10s\n  from: 2026-03-01\n");
        _first = await TestServer.StartAsync(_project, o => o with { Clock = _clock, Node = NodeIdentity.Named("first") });
        _second = await TestServer.StartAsync(_project, o => o with { Clock = _clock, Node = NodeIdentity.Named("second") });
    }

    public async Task DisposeAsync()
    {
        if (_second is not null) await _second.DisposeAsync();
        if (_first is not null) await _first.DisposeAsync();
        _project?.Dispose();
        if (_database is not null) await _database.DisposeAsync();
    }

    static long Polls(TestServer server) => server.App.Services.GetRequiredService<LandingWatcher>().Status("feeds", "daily")?.Polls ?? 0;

    /// <summary>Advances the shared clock past a poll interval and waits until both nodes have polled since.</summary>
    async Task BothPollAsync()
    {
        var (first, second) = (Polls(_first!), Polls(_second!));
        _clock.Advance(TimeSpan.FromSeconds(11));
        await TestServer.EventuallyAsync(() => Task.FromResult(Polls(_first!) > first && Polls(_second!) > second), TimeSpan.FromSeconds(30), "both nodes poll");
    }

    async Task<IReadOnlyList<Run>> RunsAsync() =>
        await _first!.Host("feeds").Store.FindRunsAsync(new RunFilter("feeds", "daily"), new Page(), CancellationToken.None);

    [SkippableFact]
    public async Task Two_nodes_polling_one_trigger_start_a_date_once_and_its_late_rerun_once()
    {
        Skip.If(PostgresTestDatabase.Server is null, "MILLRACE_TEST_POSTGRES is not set: ./test.sh starts PostgreSQL on loopback and sets it");
        _project!.LakeFile("raw/events/dt=2026-03-02/part-0.csv", "id\n1\n");
        await BothPollAsync();
        await BothPollAsync();
        Assert.Equal(["date:2026-03-02"], (await RunsAsync()).Select(r => r.RunKey));

        _project.LakeFile("raw/events/dt=2026-03-02/part-1.csv", "id\n2\n");
        await BothPollAsync();
        await BothPollAsync();
        var keys = (await RunsAsync()).Select(r => r.RunKey!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, keys.Count);
        Assert.Equal("date:2026-03-02", keys[0]);
        Assert.StartsWith("late:2026-03-02:", keys[1], StringComparison.Ordinal);
    }
}
