using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Server.Triggers;
using Millrace.Storage;

namespace Millrace.Server.Tests.Triggers;

/// <summary>
/// A lake that cannot be listed (an S3 endpoint where nothing listens) fails each poll visibly, in the log, the
/// trigger's status and <c>/healthz</c>, and keeps the dates the store holds as they were.
/// </summary>
public sealed class UnlistableLakeTests : IAsyncLifetime
{
    readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 3, 3, 6, 0, 0, TimeSpan.Zero));
    readonly LogCapture _log = new();
    ProjectFolder _project = null!;
    TestServer _server = null!;

    public async Task InitializeAsync()
    {
        // Port 9 (discard) on loopback: nothing listens there, so every request is refused at once.
        _project = new ProjectFolder("gone", "id: gone\nlake: s3://missing-bucket/lake\nlake_options: { endpoint: \"http://127.0.0.1:9\" }\n")
            .Workflow("stamp", "name: stamp\nsteps:\n  - id: d\n    type: sql\n    sql: SELECT 1 AS d\n")
            .Pipeline("daily", "workflows: [stamp]\ntrigger:\n  when_landed: [\"raw/events/dt={date}/*.csv\"]\n  from: 2026-03-01\n");
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") ?? "S3RVER");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") ?? "S3RVER");
        // The state a first, healthy poll left: the date waits for its feed.
        await using (var store = await SqliteMetadataStore.OpenAsync(Path.Combine(_project.Directory, ".millrace", "millrace.db"), CancellationToken.None))
            await store.SaveLandingDateAsync(new LandingDate
            {
                ProjectId = "gone", Pipeline = "daily", Date = new DateOnly(2026, 3, 2), State = LandingState.Waiting, Missing = ["raw/events/dt={date}/*.csv"],
                UpdatedAt = _clock.GetUtcNow(), Note = "waiting for raw/events/dt={date}/*.csv",
            }, CancellationToken.None);
        _server = await TestServer.StartAsync(_project, o => o with { Clock = _clock, ConfigureLogging = _log.AddTo });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _project.Dispose();
    }

    [Fact]
    [Trait("Category", "Security")] // an anonymous caller of /healthz learns which trigger fails, never the error (bucket, endpoint)
    public async Task A_poll_that_cannot_list_is_logged_shown_and_keeps_the_state()
    {
        var watcher = _server.App.Services.GetRequiredService<LandingWatcher>();
        await TestServer.EventuallyAsync(() => Task.FromResult(watcher.Status("gone", "daily")?.LastError is not null), TimeSpan.FromSeconds(60), "the first poll fails");

        Assert.True(_log.Contains("gone/daily: the landing trigger's poll failed, state kept"), string.Join("\n", _log.Lines));
        var health = await _server.Anonymous.GetJsonAsync("/healthz");
        Assert.Equal(["gone/daily"], health.GetProperty("triggerErrors").EnumerateArray().Select(e => e.GetString()));
        var viewer = _server.Client(await _server.TokenAsync("gone", TokenRole.Viewer));
        var trigger = await viewer.GetJsonAsync("/api/v1/projects/gone/pipelines/daily/trigger");
        Assert.False(string.IsNullOrEmpty(trigger.GetProperty("lastError").GetString()));
        var date = trigger.GetProperty("dates").EnumerateArray().Single();
        Assert.Equal(("2026-03-02", "waiting", 1L), (date.GetProperty("date").GetString(), date.GetProperty("state").GetString(),
            (await _server.Host("gone").Store.ListLandingDatesAsync("gone", "daily", new DateOnly(2026, 3, 2), new DateOnly(2026, 3, 2), CancellationToken.None)).Single().Revision));
    }
}
