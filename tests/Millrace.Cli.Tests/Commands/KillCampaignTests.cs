using System.Diagnostics;
using System.Globalization;
using Millrace.Cli.Tests.TestSupport;
using Millrace.Storage;
using Xunit.Abstractions;

namespace Millrace.Cli.Tests.Commands;

/// <summary>
/// The kill campaign: a multi-day daily pipeline (incremental read, merge into a history, an append-only log, a
/// per-day export, a summary) runs as child processes that are SIGKILLed at every fault point and at random moments,
/// each day recovered with <c>millrace retry</c> (or a new run when the kill came before the run was recorded), and
/// compared with a clean twin that ran the same days without a kill. It reports kills, rows lost, rows doubled and
/// runs stuck; the last three must be 0. <c>MILLRACE_KILL_CAMPAIGN_DAYS</c>, <c>_RANDOM</c> and <c>_SEED</c> make it
/// longer.
/// </summary>
[Trait("Category", "Security")]
public sealed class KillCampaignTests(ITestOutputHelper output) : IDisposable
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    static readonly DateOnly FirstDay = new(2026, 3, 1);
    const int MaxCleanAttempts = 4;

    readonly TempDirectory _campaign = new();
    readonly TempDirectory _twin = new();

    public void Dispose()
    {
        _campaign.Dispose();
        _twin.Dispose();
    }

    /// <summary>Every fault point the pipeline reaches, plus the one right after a run is recorded.</summary>
    public static IReadOnlyList<string> FaultPoints { get; } =
    [
        "run.created",
        "ingest.new_events.before", "ingest.new_events.after",
        "ingest.history.before", "ingest.history.mid-write", "ingest.history.after",
        "ingest.log.before", "ingest.log.mid-write", "ingest.log.after",
        "ingest.export.before", "ingest.export.mid-write", "ingest.export.after",
        "ingest.commit.before", "ingest.commit.after",
        "summarize.totals.before", "summarize.totals.after",
        "summarize.store_totals.before", "summarize.store_totals.mid-write", "summarize.store_totals.after",
        "summarize.commit.before", "summarize.commit.after",
    ];

    static void WriteDefinitions(TempDirectory directory)
    {
        directory.Write("millrace.yaml", "id: kill_campaign\n");
        directory.Write("workflows/ingest.yaml", """
            name: ingest
            steps:
              - id: new_events
                type: read
                path: raw/events/dt=*/*.csv
                incremental: true
                schema: { event_id: BIGINT, customer_id: BIGINT, amount: DOUBLE, dt: DATE }
              - { id: history, type: merge, input: new_events, into: events, key: [event_id], partition_by: [dt] }
              - { id: log, type: write, input: new_events, dataset: events_log, mode: append }
              - { id: export, type: write, input: new_events, path: "exports/dt=${run.date}/new_events.csv" }
            """);
        directory.Write("workflows/summarize.yaml", """
            name: summarize
            steps:
              - id: totals
                type: sql
                inputs: [events]
                sql: SELECT customer_id, count(*) AS events, round(sum(amount), 2) AS amount FROM events GROUP BY customer_id
              - { id: store_totals, type: write, input: totals, dataset: totals }
            """);
        directory.Write("pipelines/daily.yaml", "workflows: [ingest, summarize]\n");
    }

    /// <summary>Lands day <paramref name="day"/>'s files (two files, and every third day a late file for two days before).</summary>
    static void Land(TempDirectory directory, int day)
    {
        var date = FirstDay.AddDays(day);
        foreach (var file in new[] { "a", "b" }) directory.Write($"lake/raw/events/dt={date:yyyy-MM-dd}/{file}.csv", Rows(day * 1000 + (file == "a" ? 0 : 100), 40));
        if (day >= 2 && day % 3 == 2) directory.Write($"lake/raw/events/dt={FirstDay.AddDays(day - 2):yyyy-MM-dd}/late-{day}.csv", Rows(day * 1000 + 500, 10));
    }

    static string Rows(int firstId, int count) =>
        "event_id,customer_id,amount\n" + string.Join("\n", Enumerable.Range(firstId, count).Select(n => string.Create(CultureInfo.InvariantCulture, $"{n},{n % 11},{n % 97 * 1.25}"))) + "\n";

    static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;

    [Fact]
    public async Task Kills_at_every_fault_point_and_at_random_moments_lose_nothing_double_nothing_and_leave_no_run_stuck()
    {
        var days = Setting("MILLRACE_KILL_CAMPAIGN_DAYS", 4);
        var randomKills = Setting("MILLRACE_KILL_CAMPAIGN_RANDOM", 3);
        var random = new Random(Setting("MILLRACE_KILL_CAMPAIGN_SEED", 13));
        var clock = Stopwatch.StartNew();

        WriteDefinitions(_twin);
        for (var day = 0; day < days; day++)
        {
            Land(_twin, day);
            var clean = await Shell.RunAsync("run", "daily", "-p", _twin.Path, "--var", $"run.date={FirstDay.AddDays(day):yyyy-MM-dd}");
            Assert.True(clean.ExitCode == 0, clean.ToString());
        }

        // Each fault point once (round robin over the days, more than once in a long campaign), random kills spread over the days.
        var plan = Enumerable.Range(0, days).Select(_ => new List<string?>()).ToList();
        var rounds = Math.Max(1, (int)Math.Ceiling(days / 4.0));
        for (var i = 0; i < FaultPoints.Count * rounds; i++) plan[i % days].Add(FaultPoints[i % FaultPoints.Count]);
        // A day's points in pipeline order, each once: a point before one whose workflow already committed is never reached.
        for (var day = 0; day < days; day++) plan[day] = [.. FaultPoints.Where(plan[day].Contains)];
        var planned = plan.Sum(p => p.Count);
        // Then the random kills (null): after a day's fault points, which are reached in pipeline order.
        for (var i = 0; i < randomKills; i++) plan[random.Next(days)].Add(null);

        WriteDefinitions(_campaign);
        var (kills, pointKills, stuck, attempts) = (0, 0, 0, 0);
        var cleanDuration = TimeSpan.FromSeconds(2);
        for (var day = 0; day < days; day++)
        {
            Land(_campaign, day);
            var date = FirstDay.AddDays(day).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            foreach (var point in plan[day])
            {
                attempts++;
                if (point is not null)
                {
                    var killed = await AdvanceAsync(date, new Dictionary<string, string> { ["MILLRACE_FAULT"] = point }, null);
                    if (killed) (kills, pointKills) = (kills + 1, pointKills + 1);
                }
                else if (await AdvanceAsync(date, null, TimeSpan.FromMilliseconds(random.Next(150, 150 + (int)(cleanDuration.TotalMilliseconds * 1.2))))) kills++;
            }
            var succeeded = false;
            for (var attempt = 0; attempt < MaxCleanAttempts && !succeeded; attempt++)
            {
                attempts++;
                var started = Stopwatch.StartNew();
                await AdvanceAsync(date, null, null);
                succeeded = await DaySucceededAsync(date);
                if (succeeded) cleanDuration = started.Elapsed;
            }
            if (!succeeded) stuck++;
        }

        var gc = await Shell.RunAsync("gc", "-p", _campaign.Path);
        Assert.True(gc.ExitCode == 0, gc.ToString());
        stuck += (await Committed.RunsAsync(_campaign.Path)).Count(r => r.Status is RunStatus.Running or RunStatus.Queued);

        var (lost, doubled) = (0, 0);
        foreach (var (dataset, key) in new[] { ("events", "event_id"), ("events_log", "event_id"), ("totals", "customer_id") })
        {
            var expected = await Committed.RowsAsync(_twin.Path, dataset, key);
            var actual = await Committed.RowsAsync(_campaign.Path, dataset, key);
            lost += Multiset(expected).Sum(e => Math.Max(0, e.Value - Multiset(actual).GetValueOrDefault(e.Key)));
            doubled += Multiset(actual).Sum(a => Math.Max(0, a.Value - Multiset(expected).GetValueOrDefault(a.Key)));
        }
        for (var day = 0; day < days; day++)
        {
            var relative = Path.Combine("lake", "exports", $"dt={FirstDay.AddDays(day):yyyy-MM-dd}", "new_events.csv");
            var expected = File.ReadAllLines(Path.Combine(_twin.Path, relative)).Skip(1).ToList();
            var exportPath = Path.Combine(_campaign.Path, relative);
            var actual = File.Exists(exportPath) ? File.ReadAllLines(exportPath).Skip(1).ToList() : [];
            lost += Multiset(expected).Sum(e => Math.Max(0, e.Value - Multiset(actual).GetValueOrDefault(e.Key)));
            doubled += Multiset(actual).Sum(a => Math.Max(0, a.Value - Multiset(expected).GetValueOrDefault(a.Key)));
        }

        var report = $"kill campaign: {days} days, {attempts} attempts, {kills} kills ({pointKills} of {planned} planned at fault points, {kills - pointKills} of {randomKills} planned at random moments), " +
                     $"rows lost {lost}, rows doubled {doubled}, runs stuck {stuck}; {clock.Elapsed.TotalSeconds:0.0} s";
        output.WriteLine(report);
        Console.WriteLine(report);
        Assert.True(pointKills == planned && planned >= FaultPoints.Count, report); // every fault point was reached and killed the process
        Assert.True(lost == 0 && doubled == 0 && stuck == 0, report);
        Assert.Equal(await Committed.RowsAsync(_twin.Path, "events", "event_id"), await Committed.RowsAsync(_campaign.Path, "events", "event_id"));
    }

    static Dictionary<string, int> Multiset(IEnumerable<string> rows) =>
        rows.GroupBy(r => r, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    async Task<bool> DaySucceededAsync(string date) =>
        (await Committed.RunsAsync(_campaign.Path)).Any(r => r.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) == date && r.Status == RunStatus.Succeeded);

    /// <summary>
    /// One attempt at the day: nothing when it already succeeded; <c>retry</c> of its newest run when that did not
    /// succeed; else a new run. With <paramref name="killAfter"/>, the process is SIGKILLed after that long. True when
    /// the process was killed (by its fault point or by the campaign).
    /// </summary>
    async Task<bool> AdvanceAsync(string date, IReadOnlyDictionary<string, string>? environment, TimeSpan? killAfter)
    {
        if (await DaySucceededAsync(date)) return false;
        var newest = (await Committed.RunsAsync(_campaign.Path)).Where(r => r.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) == date).MaxBy(r => (r.CreatedAt, r.Id));
        string[] args = newest is null ? ["run", "daily", "--var", $"run.date={date}", "-p", _campaign.Path] : ["retry", newest.Id, "-p", _campaign.Path];
        using var process = Shell.Start(environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var killedByUs = false;
        using (var limit = new CancellationTokenSource(killAfter ?? Timeout))
        {
            try { await process.WaitForExitAsync(limit.Token); }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                Assert.True(killAfter is not null, $"millrace {string.Join(' ', args)} did not finish within {Timeout}");
                killedByUs = true;
            }
        }
        var error = await stderr;
        await stdout;
        var killedAtPoint = error.Contains("MILLRACE_FAULT: killing the process at", StringComparison.Ordinal);
        // A usage error (exit 2) would mean the campaign asked for something the CLI refuses: a stuck run, not a kill.
        Assert.True(killedByUs || killedAtPoint || process.ExitCode is 0 or 1, $"millrace {string.Join(' ', args)}: exit {process.ExitCode}\n{error}");
        return killedByUs || killedAtPoint;
    }
}
