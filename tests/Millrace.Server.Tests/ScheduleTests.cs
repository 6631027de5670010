using System.Globalization;
using System.Net;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>Cron schedules fire on time through Quartz, only as run requests; pause, resume and run now.</summary>
public sealed class ScheduleTests : IAsyncLifetime
{
    readonly ProjectFolder _project = new("churn");
    TestServer _server = null!;
    HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _project.Workflow("tick", "name: tick\nsteps:\n  - id: now\n    type: sql\n    sql: SELECT ${run.date} AS day\n")
            .Pipeline("every_two_seconds", "name: every_two_seconds\nworkflows: [tick]\nschedule: { cron: \"*/2 * * * * *\", timezone: Asia/Tokyo }\nconcurrency: { max_active: 1, on_overlap: skip }\n")
            .Pipeline("nightly", "name: nightly\nworkflows: [tick]\nschedule: { cron: \"0 3 * * *\" }\n");
        _server = await TestServer.StartAsync(_project);
        _admin = _server.Client(await _server.TokenAsync("churn", TokenRole.Admin));
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
        _project.Dispose();
    }

    IMetadataStore Store => _server.Host("churn").Store;

    async Task<IReadOnlyList<Run>> ScheduledRunsAsync() =>
        (await Store.FindRunsAsync(new RunFilter(Target: "every_two_seconds"), new Page(), CancellationToken.None)).Where(r => r.Trigger == TriggerKind.Schedule).ToList();

    [Fact]
    public async Task A_seconds_level_cron_fires_on_time_and_each_fire_is_one_run_request()
    {
        await TestServer.EventuallyAsync(async () => (await ScheduledRunsAsync()).Count(r => r.Status == RunStatus.Succeeded) >= 2, TimeSpan.FromSeconds(10), "two fires ran");

        foreach (var run in await ScheduledRunsAsync())
        {
            var fireTime = DateTimeOffset.ParseExact(run.RunKey!["schedule:".Length..], "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            Assert.Equal(0, fireTime.Second % 2);
            Assert.InRange(run.CreatedAt - fireTime, TimeSpan.Zero, TimeSpan.FromSeconds(1));
            // run.date is the fire time's date in the schedule's time zone.
            Assert.Equal(DateOnly.FromDateTime(fireTime.ToOffset(TimeSpan.FromHours(9)).DateTime), run.RunDate);
        }
        var schedules = await _admin.GetJsonAsync("/api/v1/projects/churn/schedules");
        var listed = schedules.EnumerateArray().Single(s => s.GetProperty("pipeline").GetString() == "every_two_seconds");
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, listed.GetProperty("lastFireAt").ValueKind);
        Assert.True(listed.GetProperty("nextFireAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddSeconds(-1));
    }

    [Fact]
    public async Task A_paused_schedule_does_not_fire_and_a_resumed_one_fires_again()
    {
        var (paused, state) = await _admin.PostAsync("/api/v1/projects/churn/schedules/every_two_seconds/pause", "");
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.True(state.GetProperty("paused").GetBoolean());
        await Task.Delay(500); // a fire already in flight may still land
        var before = (await ScheduledRunsAsync()).Count;

        await Task.Delay(4500);
        Assert.Equal(before, (await ScheduledRunsAsync()).Count);
        Assert.True((await _server.Host("churn").ServerStore.GetScheduleStatesAsync("churn", CancellationToken.None)).Single(s => s.Pipeline == "every_two_seconds").Paused);

        var (resumed, _) = await _admin.PostAsync("/api/v1/projects/churn/schedules/every_two_seconds/resume", "");
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        await TestServer.EventuallyAsync(async () => (await ScheduledRunsAsync()).Count > before, TimeSpan.FromSeconds(5), "it fires after resume");
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
