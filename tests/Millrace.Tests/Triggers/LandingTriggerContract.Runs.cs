using Millrace.Storage;
using Millrace.Triggers;

namespace Millrace.Tests.Triggers;

/// <summary>When a date runs: once, when its last feed has landed and settled; never twice.</summary>
public abstract partial class LandingTriggerContract
{
    [SkippableFact]
    public async Task A_partial_date_waits_naming_the_missing_feed_and_runs_once_when_its_last_feed_lands_and_settles()
    {
        var project = Project();
        var node = Node(project);
        await LandAsync(project, Events(Day), "id\n1\n");

        await PollAsync(node, project);
        var waiting = await DateAsync(Day);
        Assert.Equal(LandingState.Waiting, waiting.State);
        Assert.Equal(["raw/customers/dt={date}/*.csv"], waiting.Missing);

        await LandAsync(project, Customers(Day), "id\n7\n");
        Clock.Advance(TimeSpan.FromSeconds(30));
        await PollAsync(node, project);
        Assert.Equal(LandingState.Settling, (await DateAsync(Day)).State);
        Clock.Advance(TimeSpan.FromSeconds(119));
        Assert.Empty((await PollAsync(node, project)).Started);
        Assert.Empty(await RunsAsync());

        Clock.Advance(TimeSpan.FromSeconds(1));
        var poll = await PollAsync(node, project);
        var start = Assert.Single(poll.Started);
        Assert.Equal((Day, "date:2026-03-02", false, false), (start.Date, start.RunKey, start.Late, start.Duplicate));
        var run = Assert.Single(await RunsAsync());
        Assert.Equal((TriggerKind.Landing, Day, "date:2026-03-02", RunStatus.Succeeded), (run.Trigger, run.RunDate, run.RunKey, run.Status));
        var started = await DateAsync(Day);
        Assert.Equal((LandingState.Started, run.Id), (started.State, started.RunId));

        Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Empty((await PollAsync(node, project)).Started);
        Assert.Single(await RunsAsync());
    }

    [SkippableFact]
    public async Task A_file_that_changes_while_settling_starts_the_settle_period_again()
    {
        var project = Project();
        var node = Node(project);
        await LandAsync(project, Events(Day), "id\n1\n");
        await LandAsync(project, Customers(Day), "id\n7\n");
        await PollAsync(node, project);

        Clock.Advance(TimeSpan.FromSeconds(90));
        await LandAsync(project, Events(Day), "id\n1\n2\n");
        await PollAsync(node, project);
        Clock.Advance(TimeSpan.FromSeconds(90));
        Assert.Empty((await PollAsync(node, project)).Started);
        var settling = await DateAsync(Day);
        Assert.Equal(LandingState.Settling, settling.State);
        Assert.Contains($"{Events(Day)} changed", settling.Note);

        Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Single((await PollAsync(node, project)).Started);
    }

    [SkippableFact]
    public async Task A_late_file_reruns_the_date_once_with_the_late_run_key()
    {
        var project = Project();
        var node = Node(project);
        await LandAsync(project, Events(Day), "id\n1\n");
        await LandAsync(project, Customers(Day), "id\n7\n");
        await PollAsync(node, project);
        Clock.Advance(TimeSpan.FromMinutes(2));
        var first = Assert.Single((await PollAsync(node, project)).Started);

        await LandAsync(project, Events(Day, "part-1.csv"), "id\n3\n");
        Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Empty((await PollAsync(node, project)).Started);
        var late = await DateAsync(Day);
        Assert.Equal(LandingState.Late, late.State);
        Assert.Contains($"{Events(Day, "part-1.csv")} added", late.Note);

        Clock.Advance(TimeSpan.FromMinutes(2));
        var rerun = Assert.Single((await PollAsync(node, project)).Started);
        Assert.True(rerun.Late);
        Assert.Equal($"late:2026-03-02:{late.FilesetHash}", rerun.RunKey);
        Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Empty((await PollAsync(node, project)).Started);

        var runs = await RunsAsync();
        Assert.Equal([first.RunId, rerun.RunId], runs.Select(r => r.Id));
        Assert.Equal(["date:2026-03-02", rerun.RunKey], runs.Select(r => r.RunKey));
        Assert.All(runs, r => Assert.Equal(Day, r.RunDate));
        Assert.Equal((LandingState.Started, rerun.RunId), ((await DateAsync(Day)).State, (await DateAsync(Day)).RunId));
    }

    [SkippableFact]
    public async Task With_on_late_ignore_a_late_file_is_recorded_and_nothing_reruns()
    {
        var project = Project(TwoFeeds + "\n  on_late: ignore");
        var node = Node(project);
        await LandAsync(project, Events(Day), "id\n1\n");
        await LandAsync(project, Customers(Day), "id\n7\n");
        await PollAsync(node, project);
        Clock.Advance(TimeSpan.FromMinutes(2));
        var first = Assert.Single((await PollAsync(node, project)).Started);

        await LandAsync(project, Customers(Day), "id\n7\n8\n");
        await PollAsync(node, project);
        Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Empty((await PollAsync(node, project)).Started);

        var recorded = await DateAsync(Day);
        Assert.Equal((LandingState.LateRecorded, first.RunId), (recorded.State, recorded.RunId));
        Assert.Contains("on_late: ignore", recorded.Note);
        Assert.Single(await RunsAsync());
    }

    [SkippableFact]
    public async Task A_restarted_node_and_a_second_node_on_the_same_store_start_nothing_twice()
    {
        var project = Project();
        await LandAsync(project, Events(Day), "id\n1\n");
        await LandAsync(project, Customers(Day), "id\n7\n");
        await PollAsync(Node(project), project);
        Clock.Advance(TimeSpan.FromMinutes(2));

        // Two nodes poll the same settled date at once: the store's run key lets one run through.
        var polls = await Task.WhenAll(PollAsync(Node(project), project), PollAsync(Node(project), project));
        var starts = polls.SelectMany(p => p.Started).ToList();
        Assert.Single(starts, s => !s.Duplicate);
        Assert.Single(await RunsAsync());

        // A restart: a new node with nothing in memory, on the same store.
        Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty((await PollAsync(Node(project), project)).Started);
        Assert.Single(await RunsAsync());
        Assert.Equal(LandingState.Started, (await DateAsync(Day)).State);
    }

    [SkippableFact]
    public async Task A_file_that_never_settles_is_reported_and_not_run()
    {
        var project = Project();
        var node = Node(project);
        await LandAsync(project, Customers(Day), "id\n7\n");
        var rows = "id\n";
        for (var i = 0; i <= 11; i++)
        {
            rows += $"{i}\n";
            await LandAsync(project, Events(Day), rows);
            Assert.Empty((await PollAsync(node, project)).Started);
            Clock.Advance(TimeSpan.FromMinutes(2) - TimeSpan.FromSeconds(1));
        }

        var date = await DateAsync(Day);
        Assert.Equal(LandingState.NeverSettling, date.State);
        Assert.Contains("never settling", date.Note);
        Assert.Contains($"{Events(Day)} changed", date.Note);
        Assert.Empty(await RunsAsync());
    }

    [SkippableFact]
    public async Task Dates_before_from_and_files_outside_the_patterns_never_run()
    {
        var project = Project(TwoFeeds.Replace("settle: 2m", "settle: 0s", StringComparison.Ordinal));
        var node = Node(project);
        var before = new DateOnly(2026, 2, 28);
        await LandAsync(project, Events(before), "id\n1\n");
        await LandAsync(project, Customers(before), "id\n1\n");
        await LandAsync(project, $"raw/events/dt={Day:yyyy-MM-dd}/notes.txt", "not a csv");
        await LandAsync(project, $"raw/customers/dt={Day:yyyy-MM-dd}/part-0.csv", "id\n1\n");

        var poll = await PollAsync(node, project);

        Assert.Empty(poll.Started);
        Assert.Equal([Day], poll.Dates.Select(d => d.Date));
        Assert.Equal(["raw/events/dt={date}/*.csv"], (await DateAsync(Day)).Missing);
    }
}
