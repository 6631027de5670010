using Microsoft.Extensions.Time.Testing;
using Millrace.Server.Tests.TestSupport;
using Millrace.Server.Triggers;
using Millrace.Storage;

namespace Millrace.Server.Tests.Triggers;

/// <summary>
/// On a local lake a file-system notification wakes the landing trigger at once: with a poll interval of a day and a
/// clock that never moves, the date still runs when its file lands.
/// </summary>
public sealed class NotificationTests : IAsyncLifetime
{
    readonly ProjectFolder _project = new("feeds");
    TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _project.Workflow("stamp", "name: stamp\nsteps:\n  - id: d\n    type: sql\n    sql: SELECT ${run.date} AS d\n")
            .Pipeline("daily", "workflows: [stamp]\ntrigger:\n  when_landed: [\"raw/events/dt={date}/*.csv\"]\n  settle: 0s\n  poll: 1d\n  from: 2026-03-01\n")
            .LakeFile("raw/events/README", "the feed folder exists before the server starts");
        _server = await TestServer.StartAsync(_project, o => o with { Clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 3, 6, 0, 0, TimeSpan.Zero)) });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _project.Dispose();
    }

    [Fact]
    public async Task A_file_landing_in_a_local_lake_starts_its_date_without_waiting_for_the_poll_interval()
    {
        // The poll at start has seen no date: only a notification can make the next one, as the clock never moves.
        var watcher = (LandingWatcher)_server.App.Services.GetService(typeof(LandingWatcher))!;
        await TestServer.EventuallyAsync(() => Task.FromResult(watcher.Status("feeds", "daily")?.Polls > 0), TimeSpan.FromSeconds(30), "the poll at start");
        _project.LakeFile("raw/events/dt=2026-03-02/part-0.csv", "id\n1\n");

        var store = _server.Host("feeds").Store;
        await TestServer.EventuallyAsync(async () => (await store.FindRunsAsync(new RunFilter("feeds", "daily"), new Page(), CancellationToken.None)).Count == 1,
            TimeSpan.FromSeconds(30), "the notification wakes the trigger and the date runs");
        Assert.Equal("date:2026-03-02", (await store.FindRunsAsync(new RunFilter("feeds", "daily"), new Page(), CancellationToken.None)).Single().RunKey);
    }
}
