using System.Globalization;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>
/// Cron schedules fire on time through Quartz, only as run requests; pause, resume and run now. The server's clock is
/// a fake one: a test advances it past fire times and waits for the runs those fires request, never for the wall clock.
/// </summary>
public sealed class ScheduleTests : IAsyncLifetime
{
    // Half a second before 14:59:58 UTC, that is 23:59:58 in Tokyo: the fires cross midnight there.
    static readonly DateTimeOffset Start = new(2030, 1, 1, 14, 59, 57, 500, TimeSpan.Zero);
    readonly FakeTimeProvider _clock = new(Start);
    readonly ProjectFolder _project = new("churn");
    TestServer _server = null!;
    HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _project.Workflow("tick", "name: tick\nsteps:\n  - id: now\n    type: sql\n    sql: SELECT ${run.date} AS day\n")
            .Pipeline("every_two_seconds", "name: every_two_seconds\nworkflows: [tick]\nschedule: { cron: \"*/2 * * * * *\", timezone: Asia/Tokyo }\nconcurrency: { max_active: 1, on_overlap: skip }\n")
            .Pipeline("witness", "name: witness\nworkflows: [tick]\nschedule: { cron: \"1/2 * * * * *\" }\n")
            .Pipeline("nightly", "name: nightly\nworkflows: [tick]\nschedule: { cron: \"0 3 * * *\" }\n");
        _server = await TestServer.StartAsync(_project, o => o with { Clock = _clock });
        _admin = _server.Client(await _server.TokenAsync("churn", TokenRole.Admin));
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
        _project.Dispose();
    }

    IMetadataStore Store => _server.Host("churn").Store;

    async Task<IReadOnlyList<Run>> ScheduledRunsAsync(string target = "every_two_seconds") =>
        (await Store.FindRunsAsync(new RunFilter(Target: target), new Page(), CancellationToken.None)).Where(r => r.Trigger == TriggerKind.Schedule).ToList();

    static DateTimeOffset FireTime(Run run) =>
        DateTimeOffset.ParseExact(run.RunKey!["schedule:".Length..], "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    /// <summary>Advances the clock one second at a time, waiting after each for the witness's fire of that second (on odd seconds).</summary>
    async Task AdvanceAsync(int seconds)
    {
        for (var i = 0; i < seconds; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            var second = new DateTimeOffset(_clock.GetUtcNow().Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
            if (second.Second % 2 == 1)
                await TestServer.EventuallyAsync(async () => (await ScheduledRunsAsync("witness")).Any(r => FireTime(r) == second), TimeSpan.FromSeconds(10),
                    $"the witness fires for {second:HH:mm:ss}");
        }
    }

    [Fact]
    public async Task A_seconds_level_cron_fires_on_time_and_each_fire_is_one_run_request()
    {
        // Past 14:59:58, then past 15:00:00, each fire's run ending before the next (max_active: 1 would skip it).
        foreach (var (step, fires) in new[] { (1, 1), (2, 2) })
        {
            _clock.Advance(TimeSpan.FromSeconds(step));
            await TestServer.EventuallyAsync(async () => (await ScheduledRunsAsync()).Count(r => r.Status == RunStatus.Succeeded) >= fires, TimeSpan.FromSeconds(10),
                $"{fires} fire(s) ran");
        }

        var runs = (await ScheduledRunsAsync()).OrderBy(FireTime).ToList();
        // Exactly the fire times passed, one run each; run.date is the fire time's date in the schedule's time zone.
        Assert.Equal([Start.AddSeconds(0.5), Start.AddSeconds(2.5)], runs.Select(FireTime));
        Assert.Equal([new DateOnly(2030, 1, 1), new DateOnly(2030, 1, 2)], runs.Select(r => r.RunDate));
        var schedules = await _admin.GetJsonAsync("/api/v1/projects/churn/schedules");
        var listed = schedules.EnumerateArray().Single(s => s.GetProperty("pipeline").GetString() == "every_two_seconds");
        Assert.Equal(Start.AddSeconds(2.5), listed.GetProperty("lastFireAt").GetDateTimeOffset());
        Assert.Equal(Start.AddSeconds(4.5), listed.GetProperty("nextFireAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task A_paused_schedule_does_not_fire_and_a_resumed_one_fires_again()
    {
        var (paused, state) = await _admin.PostAsync("/api/v1/projects/churn/schedules/every_two_seconds/pause", "");
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.True(state.GetProperty("paused").GetBoolean());

        // The witness, never paused, fires on the odd seconds: its fires prove that the scheduler went past the paused
        // schedule's fire times between them, and the paused schedule fired at none.
        await AdvanceAsync(6);
        Assert.Empty(await ScheduledRunsAsync());
        Assert.True((await _server.Host("churn").ServerStore.GetScheduleStatesAsync("churn", CancellationToken.None)).Single(s => s.Pipeline == "every_two_seconds").Paused);

        var (resumed, _) = await _admin.PostAsync("/api/v1/projects/churn/schedules/every_two_seconds/resume", "");
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        var resumedAt = _clock.GetUtcNow();
        await AdvanceAsync(3);
        await TestServer.EventuallyAsync(async () => (await ScheduledRunsAsync()).Count > 0, TimeSpan.FromSeconds(10), "it fires after resume");
        Assert.All(await ScheduledRunsAsync(), r => Assert.True(FireTime(r) > resumedAt, "fire times passed while paused are not run"));
        var audit = await _server.Host("churn").ServerStore.FindAuditAsync(new Page(), CancellationToken.None);
        Assert.Contains(audit, a => a.Action.EndsWith("/pause", StringComparison.Ordinal) && a.Target == "schedule every_two_seconds" && a.Outcome == 200);
    }

    [Fact]
    public async Task Run_now_queues_a_run_of_the_scheduled_pipeline_and_unscheduled_pipelines_are_404()
    {
        var (response, accepted) = await _admin.PostAsync("/api/v1/projects/churn/schedules/nightly/run", "");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("succeeded", (await TestServer.WaitForRunAsync(_admin, accepted.GetProperty("statusUrl").GetString()!)).Status());
        var (missing, _) = await _admin.PostAsync("/api/v1/projects/churn/schedules/nope/run", "");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
