using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>
/// What survives a restart: paused schedules stay paused, queued runs are picked up, missed fire times are skipped or
/// caught up per policy, and runs still running at shutdown are recorded interrupted and can be retried.
/// </summary>
public sealed class RestartTests : IDisposable
{
    readonly string _gate = TestSteps.NewGate();
    readonly ProjectFolder _project = new("churn");

    public RestartTests()
    {
        _project.Workflow("tick", "name: tick\nsteps:\n  - id: one\n    type: sql\n    sql: SELECT 1 AS n\n")
            .Workflow("blocked", $"name: blocked\nsteps:\n  - id: wait\n    type: gate\n    gate: {_gate}\n")
            .Pipeline("frequent", "name: frequent\nworkflows: [tick]\nschedule: { cron: \"* * * * * *\" }\nconcurrency: { max_active: 1, on_overlap: skip }\n")
            .Pipeline("manual", "name: manual\nworkflows: [tick]\n")
            .Pipeline("long", "name: long\nworkflows: [tick, blocked]\n");
    }

    public void Dispose()
    {
        TestSteps.Open(_gate);
        _project.Dispose();
    }

    [Fact]
    public async Task A_paused_schedule_stays_paused_after_a_restart()
    {
        // Both servers run on one fake clock: the schedules fire only when the test advances it.
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, 500, TimeSpan.Zero));
        await using (var first = await TestServer.StartAsync(_project, o => o with { Clock = clock }))
        {
            using var admin = first.Client(await first.TokenAsync("churn", TokenRole.Admin));
            await admin.PostAsync("/api/v1/projects/churn/schedules/frequent/pause", "");
        }

        // A witness with the same cron, never paused: its fires after the restart prove those fire times went by.
        _project.Pipeline("witness", "name: witness\nworkflows: [tick]\nschedule: { cron: \"* * * * * *\" }\n");
        await using var second = await TestServer.StartAsync(_project, o => o with { Clock = clock });
        var store = second.Host("churn").Store;
        Task<IReadOnlyList<Run>> RunsAsync(string target) => store.FindRunsAsync(new RunFilter(Target: target), new Page(), CancellationToken.None);
        for (var fires = 1; fires <= 3; fires++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await TestServer.EventuallyAsync(async () => (await RunsAsync("witness")).Count >= fires, TimeSpan.FromSeconds(10), $"the witness fires {fires} time(s)");
        }

        Assert.Empty(await RunsAsync("frequent"));
        using var viewer = second.Client(await second.TokenAsync("churn", TokenRole.Viewer));
        var schedule = (await viewer.GetJsonAsync("/api/v1/projects/churn/schedules")).EnumerateArray().Single(s => s.GetProperty("pipeline").GetString() == "frequent");
        Assert.True(schedule.GetProperty("paused").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, schedule.GetProperty("nextFireAt").ValueKind);
    }

    [Fact]
    public async Task Queued_runs_survive_a_restart_and_are_run_by_the_next_server()
    {
        string queuedUrl;
        await using (var first = await TestServer.StartAsync(_project, o => o with { MaxConcurrentRuns = 0, EnableScheduler = false }))
        {
            using var runner = first.Client(await first.TokenAsync("churn", TokenRole.Runner));
            var accepted = await runner.ExecuteAsync("churn", "manual");
            queuedUrl = accepted.GetProperty("statusUrl").GetString()!;
            // With a limit of 0 runs this server starts none: the run stays queued in the store when it stops.
            Assert.Equal("queued", (await runner.GetJsonAsync(queuedUrl)).Status());
        }

        await using var second = await TestServer.StartAsync(_project, o => o with { EnableScheduler = false });
        using var viewer = second.Client(await second.TokenAsync("churn", TokenRole.Viewer));
        var path = new Uri(queuedUrl).PathAndQuery;
        var detail = await TestServer.WaitForRunAsync(viewer, path);
        Assert.Equal("succeeded", detail.Status());
    }

    [Fact]
    public async Task A_run_still_running_at_shutdown_is_recorded_interrupted_after_the_timeout_and_retry_resumes_it()
    {
        string runId;
        await using (var first = await TestServer.StartAsync(_project, o => o with { EnableScheduler = false, ShutdownTimeout = TimeSpan.FromMilliseconds(500) }))
        {
            using var runner = first.Client(await first.TokenAsync("churn", TokenRole.Runner));
            var accepted = await runner.ExecuteAsync("churn", "long");
            runId = accepted.GetProperty("runId").GetString()!;
            await TestServer.EventuallyAsync(() => Task.FromResult(TestSteps.Reached(_gate) > 0), TimeSpan.FromSeconds(10), "the run reaches the gate");
            await first.StopAsync();
            var run = (await first.Host("churn").Store.GetRunAsync(runId, CancellationToken.None))!;
            Assert.Equal(RunStatus.Failed, run.Status);
            Assert.StartsWith("interrupted: the server shut down", run.Error);
            Assert.Contains($"millrace retry {runId}", run.Error);
        }

        TestSteps.Open(_gate);
        await using var second = await TestServer.StartAsync(_project, o => o with { EnableScheduler = false });
        using var client = second.Client(await second.TokenAsync("churn", TokenRole.Runner));
        var (_, retry) = await client.PostAsync($"/api/v1/projects/churn/runs/{runId}/retry", "");
        var detail = await TestServer.WaitForRunAsync(client, retry.GetProperty("statusUrl").GetString()!);
        Assert.Equal("succeeded", detail.Status());
        Assert.Equal(runId, detail.GetProperty("run").GetProperty("parentRunId").GetString());
        Assert.Contains(detail.GetProperty("workflows").EnumerateArray(), w => w.GetProperty("workflow").GetString() == "tick" && w.GetProperty("status").GetString() == "skipped");
    }

    [Fact]
    public async Task Fire_times_missed_while_down_are_skipped_by_default_and_caught_up_with_catch_up()
    {
        _project.Pipeline("frequent", "name: frequent\nworkflows: [tick]\nschedule: { cron: \"0 * * * * *\", misfire: skip }\n")
            .Pipeline("caught_up", "name: caught_up\nworkflows: [tick]\nschedule: { cron: \"0 * * * * *\", catch_up: 2 }\nconcurrency: { max_active: 5 }\n");
        // The servers' clock is a fake one, years ahead: Quartz (on the wall clock) never reaches a fire time during the
        // test, and the outage is ten minutes of the fake clock rather than of waiting.
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 30, TimeSpan.Zero));
        await using (var first = await TestServer.StartAsync(_project, o => o with { MaxConcurrentRuns = 0, Clock = clock }))
            await first.StopAsync();
        var stoppedAt = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromMinutes(10)); // ten fire times pass while no server runs

        await using var second = await TestServer.StartAsync(_project, o => o with { MaxConcurrentRuns = 0, Clock = clock });
        var store = second.Host("churn").Store;
        async Task<IReadOnlyList<(Run Run, string? By)>> RunsAsync(string target) =>
            await Task.WhenAll((await store.FindRunsAsync(new RunFilter(Target: target), new Page(), CancellationToken.None))
                .Select(async r => (r, (await store.GetRunRequestAsync(r.Id, CancellationToken.None))?.RequestedBy)));
        var caughtUp = (await RunsAsync("caught_up")).Where(r => r.By == Scheduling.PipelineScheduler.CatchUpRequester).Select(r => Fire(r.Run)).Order().ToList();

        // The two most recent of the ten fire times missed while no server ran; none of the skipped pipeline's.
        Assert.Equal([stoppedAt.AddSeconds(-30).AddMinutes(9), stoppedAt.AddSeconds(-30).AddMinutes(10)], caughtUp);
        Assert.Empty(await RunsAsync("frequent"));
    }

    static DateTimeOffset Fire(Run r) => DateTimeOffset.ParseExact(r.RunKey!["schedule:".Length..], "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
