using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Server.Triggers;
using Millrace.Storage;

namespace Millrace.Server.Tests.Triggers;

/// <summary>
/// <c>millrace serve</c> polls landing triggers on its own: a date waits (visible in the API, naming the missing feed),
/// runs once when its last feed lands and settles, and a schedule fire for the same date is a duplicate. The server's
/// clock is fake: the test advances it and waits for the poll that proves the moment has passed, never for wall time.
/// </summary>
public sealed class LandingServerTests : IAsyncLifetime
{
    static readonly DateTimeOffset Start = new(2026, 3, 2, 5, 50, 0, TimeSpan.Zero);
    readonly FakeTimeProvider _clock = new(Start);
    readonly ProjectFolder _project = new("feeds");
    TestServer _server = null!;
    HttpClient _viewer = null!;

    public async Task InitializeAsync()
    {
        _project.Workflow("stamp", "name: stamp\nsteps:\n  - id: d\n    type: sql\n    sql: SELECT ${run.date} AS d\n")
            .Pipeline("daily", """
                workflows: [stamp]
                trigger:
                  when_landed: ["raw/events/dt={date}/*.csv", "raw/customers/dt={date}/*.csv"]
                  settle: 1m
                  poll: 30s
                  from: 2026-03-01
                schedule: { cron: "0 6 * * *" }
                """)
            .Pipeline("plain", "workflows: [stamp]\n")
            .LakeFile("raw/events/dt=2026-03-02/part-0.csv", "id\n1\n");
        _server = await TestServer.StartAsync(_project, o => o with { Clock = _clock });
        _viewer = _server.Client(await _server.TokenAsync("feeds", TokenRole.Viewer));
    }

    public async Task DisposeAsync()
    {
        _viewer.Dispose();
        await _server.DisposeAsync();
        _project.Dispose();
    }

    LandingWatcher Watcher => _server.App.Services.GetRequiredService<LandingWatcher>();

    IMetadataStore Store => _server.Host("feeds").Store;

    long Polls => Watcher.Status("feeds", "daily")?.Polls ?? 0;

    /// <summary>Advances the clock by <paramref name="by"/> and waits for a poll made after it.</summary>
    async Task AdvanceAndPollAsync(TimeSpan by)
    {
        var before = Polls;
        _clock.Advance(by);
        await TestServer.EventuallyAsync(() => Task.FromResult(Polls > before), TimeSpan.FromSeconds(20), "a poll after the clock moved");
    }

    async Task<System.Text.Json.JsonElement> DateAsync(string date) =>
        (await _viewer.GetJsonAsync($"/api/v1/projects/feeds/pipelines/daily/trigger?from={date}&to={date}")).GetProperty("dates").EnumerateArray().Single();

    async Task<IReadOnlyList<Run>> RunsAsync() => await Store.FindRunsAsync(new RunFilter("feeds", "daily"), new Page(), CancellationToken.None);

    [Fact]
    public async Task A_date_waits_naming_its_missing_feed_then_runs_once_and_the_schedule_fire_for_it_is_a_duplicate()
    {
        await TestServer.EventuallyAsync(() => Task.FromResult(Polls > 0), TimeSpan.FromSeconds(20), "the first poll at start");
        var waiting = await DateAsync("2026-03-02");
        Assert.Equal("waiting", waiting.GetProperty("state").GetString());
        Assert.Equal(["raw/customers/dt={date}/*.csv"], waiting.GetProperty("missing").EnumerateArray().Select(m => m.GetString()));
        using var ui = new Ui.UiClient(_server.BaseAddress);
        await ui.SignInAsync(await _server.TokenAsync("feeds", TokenRole.Viewer));
        var (_, page) = await ui.GetAsync("/ui/projects/feeds/pipelines/daily");
        Assert.Contains("Landing trigger", page);
        Assert.Contains("raw/customers/dt={date}/*.csv", page);

        _project.LakeFile("raw/customers/dt=2026-03-02/part-0.csv", "id\n7\n");
        await AdvanceAndPollAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("settling", (await DateAsync("2026-03-02")).GetProperty("state").GetString());
        Assert.Empty(await RunsAsync());

        await AdvanceAndPollAsync(TimeSpan.FromSeconds(61));
        var run = Assert.Single(await RunsAsync());
        Assert.Equal((TriggerKind.Landing, "date:2026-03-02", new DateOnly(2026, 3, 2)), (run.Trigger, run.RunKey, run.RunDate));
        var started = await DateAsync("2026-03-02");
        Assert.Equal(("started", run.Id), (started.GetProperty("state").GetString(), started.GetProperty("runId").GetString()));

        // 06:00 passes: the schedule fires for the same run date, and its request names the trigger's run.
        _clock.Advance(new DateTimeOffset(2026, 3, 2, 6, 0, 1, TimeSpan.Zero) - _clock.GetUtcNow());
        await TestServer.EventuallyAsync(async () =>
            (await _viewer.GetJsonAsync("/api/v1/projects/feeds/schedules")).EnumerateArray().Single().TryGetProperty("lastFireAt", out var at)
                && at.ValueKind == System.Text.Json.JsonValueKind.String, TimeSpan.FromSeconds(20), "the 06:00 fire is handled");
        Assert.Equal([run.Id], (await RunsAsync()).Select(r => r.Id));
    }

    [Fact]
    [Trait("Category", "Security")]
    public async Task The_trigger_endpoint_bounds_its_range_refuses_bad_dates_with_detail_and_needs_a_token()
    {
        foreach (var (query, fragment) in new[]
        {
            ("from=2026-3-1", "'from' must be a date written yyyy-MM-dd"),
            ("to=yesterday", "'to' must be a date written yyyy-MM-dd"),
            ("from=2026-03-02&to=2026-03-01", "'to' is before 'from'"),
            ("from=2000-01-01&to=2026-03-01", "at most 366 dates"),
        })
        {
            var response = await _viewer.GetAsync($"/api/v1/projects/feeds/pipelines/daily/trigger?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(fragment, await response.Content.ReadAsStringAsync());
        }
        var plain = await _viewer.GetAsync("/api/v1/projects/feeds/pipelines/plain/trigger");
        Assert.Equal(HttpStatusCode.NotFound, plain.StatusCode);
        Assert.Contains("has no landing trigger", await plain.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Anonymous.GetAsync("/api/v1/projects/feeds/pipelines/daily/trigger")).StatusCode);
        var trigger = await _viewer.GetJsonAsync("/api/v1/projects/feeds/pipelines/daily/trigger");
        Assert.Equal(("1m", "30s", "7d", "rerun", "2026-03-01"), (trigger.GetProperty("settle").GetString(), trigger.GetProperty("poll").GetString(),
            trigger.GetProperty("lateWindow").GetString(), trigger.GetProperty("onLate").GetString(), trigger.GetProperty("from").GetString()));
    }
}
