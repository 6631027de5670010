using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Millrace.Deadlines;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Lake;
using Millrace.Parameters;
using Millrace.Samples.Churn;
using Millrace.Storage;
using Millrace.Triggers;

namespace Millrace.Cli.Commands;

/// <summary>
/// The quickstart's clock: the loop sets it to each simulated moment (a day's files landing at 04:00, the deadline
/// check at 07:05, the nightly training at 02:00), and it advances in real time in between, so run durations stay
/// real. It never goes back: a moment already passed (a long run) leaves it where it is.
/// </summary>
sealed class SimulatedClock(DateTimeOffset start) : TimeProvider
{
    readonly Lock _lock = new();
    DateTimeOffset _at = start;
    long _since = Stopwatch.GetTimestamp();

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock) return _at + Stopwatch.GetElapsedTime(_since);
    }

    public void AdvanceTo(DateTimeOffset at)
    {
        lock (_lock)
        {
            var now = _at + Stopwatch.GetElapsedTime(_since);
            _at = at > now ? at : now;
            _since = Stopwatch.GetTimestamp();
        }
    }
}

/// <summary>On an S3 lake, uploads the landing files the generator wrote into the cache since the last call.</summary>
sealed class QuickstartLanding(LakeRoot lake)
{
    readonly HashSet<string> _uploaded = new(StringComparer.Ordinal);

    public async Task UploadAsync(CancellationToken ct)
    {
        if (!lake.Storage.IsRemote) return;
        var raw = Path.Combine(lake.Root, "raw");
        var fresh = Directory.EnumerateFiles(raw, "*", SearchOption.AllDirectories).Select(lake.ToRelative).Where(_uploaded.Add).ToList();
        await lake.Storage.UploadAsync(fresh, ct);
    }
}

/// <summary>
/// One simulated day of the quickstart, as <c>millrace serve</c> would live it with the sample's landing trigger:
/// the day's files land at 04:00 the next morning; the trigger's polls see them, wait for them to settle, and start
/// the prediction run for the date; at 07:05 the deadline and freshness checks are evaluated; at 02:00 the night
/// after, the nightly training runs. Two delivery problems are planted: part of one day's events lands a day late
/// (the date reruns, its first outputs stale until then), and one day's customers land at 09:00, after the 05:00
/// freshness check and the 07:00 deadline (both alert; the date runs when the file lands).
/// </summary>
sealed class QuickstartLoop(ProjectDefinition project, IMetadataStore store, LakeRoot lake, RunCoordinator coordinator, SimulatedClock clock, NodeIdentity node, ILogger logger)
{
    /// <summary>The day (0-based) part of whose events lands with the next day's files.</summary>
    public const int LateDay = 11;

    /// <summary>The day (0-based) whose customers land after the deadline.</summary>
    public const int MissedDay = 15;

    /// <summary>The first day (0-based) the nightly training runs: churn outcomes need the label horizon (14 days) to be known.</summary>
    public const int TrainingStartDay = 16;

    /// <summary>The share of the late day's events that lands a day late.</summary>
    const double LateShare = 0.1;

    const string Prediction = "prediction";
    static readonly TimeSpan Landing = TimeSpan.FromHours(4);
    static readonly TimeSpan DeadlineCheck = new(7, 5, 0);
    static readonly TimeSpan LateCustomers = TimeSpan.FromHours(9);
    static readonly TimeSpan NightlyTraining = TimeSpan.FromHours(26);

    readonly PipelineDefinition _pipeline = project.Pipelines[Prediction];
    readonly QuickstartLanding _upload = new(lake);
    string? _lateEvents;

    /// <summary>Where the first day's clock starts: the landing of the history backlog.</summary>
    public static DateTimeOffset Start(DateOnly first) => Morning(first.AddDays(-1)) + Landing;

    static DateTimeOffset Morning(DateOnly date) => new(date.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    /// <summary>Lands the history backlog (days before the simulation, which the trigger's <c>from</c> leaves to the first run).</summary>
    public Task LandHistoryAsync(CancellationToken ct) => _upload.UploadAsync(ct);

    public async Task<QuickstartDay> RunDayAsync(ChurnLakeGenerator generator, DateOnly first, int index, CancellationToken ct)
    {
        var date = first.AddDays(index);
        var morning = Morning(date);
        clock.AdvanceTo(morning + Landing);
        var day = generator.Generate(date);
        var deliveries = new List<string>();
        if (index == LateDay) deliveries.Add(HoldBackEvents(date));
        if (_lateEvents is not null && index == LateDay + 1) deliveries.Add(LandLateEvents(date.AddDays(-1)));
        var heldCustomers = index == MissedDay ? HoldBack(FeedFile("customers", date)) : null;
        if (heldCustomers is not null) deliveries.Add($"customers of {Text(date)} held back until 09:00, after the 05:00 freshness check and the 07:00 deadline");
        var started = new List<LandingStart>();
        await LandAndPollAsync(started, ct);

        clock.AdvanceTo(morning + DeadlineCheck);
        var misses = new List<DeadlineMiss>((await EvaluateDeadlinesAsync(ct)).Recorded);
        if (heldCustomers is { } held)
        {
            clock.AdvanceTo(morning + LateCustomers);
            Directory.CreateDirectory(Path.GetDirectoryName(held.Path)!);
            await File.WriteAllTextAsync(held.Path, held.Content, ct);
            await LandAndPollAsync(started, ct);
            misses.AddRange((await EvaluateDeadlinesAsync(ct)).Recorded); // marks the misses met late
        }

        var prediction = started.Any(s => s.Date == date && !s.Late) ? await LatestRunAsync(date, ct) : null;
        var reruns = new List<Run>();
        foreach (var rerun in started.Where(s => s.Late && !s.Duplicate))
            if (await store.GetRunAsync(rerun.RunId, ct) is { } run) reruns.Add(await LatestRunAsync(rerun.Date, ct) ?? run);
        var waiting = prediction is null ? await WaitingNoteAsync(date, ct) : null;

        Run? training = null;
        if (prediction is { Status: var status } && status.IsSuccess() && index >= TrainingStartDay)
        {
            clock.AdvanceTo(morning + NightlyTraining);
            var variables = new[] { new KeyValuePair<string, string>(BuiltInParameters.RunDate, Text(date)) };
            training = (await coordinator.SubmitAsync(new RunRequest("training", variables, TriggerKind.Schedule), new RunRequestInfo(RequestedBy: "quickstart"), null, ct)).Final.Run;
        }
        return await QuickstartDay.ReadAsync(store, day, prediction, reruns, training, misses, deliveries, waiting, ct);
    }

    /// <summary>Uploads what landed (S3), and polls as the server would: once on arrival, then once the settle period has passed.</summary>
    async Task LandAndPollAsync(List<LandingStart> started, CancellationToken ct)
    {
        await _upload.UploadAsync(ct);
        var trigger = new LandingTrigger(coordinator, lake, logger);
        var seen = clock.GetUtcNow();
        started.AddRange((await trigger.PollAsync(_pipeline, ct)).Started);
        clock.AdvanceTo(seen + _pipeline.Trigger!.Settle + _pipeline.Trigger.Poll);
        started.AddRange((await trigger.PollAsync(_pipeline, ct)).Started);
    }

    Task<DeadlineEvaluation> EvaluateDeadlinesAsync(CancellationToken ct) =>
        new DeadlineEvaluator(project, store, lake, clock, node).EvaluateAsync(ct);

    /// <summary>The date's latest pipeline run (a retry or a rerun replaces the first).</summary>
    async Task<Run?> LatestRunAsync(DateOnly date, CancellationToken ct) =>
        (await store.FindRunsAsync(new RunFilter(project.Id, Prediction, RunDate: date), new Page(0, 100), ct))
            .Where(r => r.TargetKind == "pipeline").MaxBy(r => r.CreatedAt);

    async Task<string> WaitingNoteAsync(DateOnly date, CancellationToken ct)
    {
        var recorded = (await store.ListLandingDatesAsync(project.Id, Prediction, date, date, ct)).SingleOrDefault();
        return recorded is null ? $"the trigger never saw {Text(date)}" : $"{Text(date)} is {recorded.State.ToString().ToLowerInvariant()}: {recorded.Note ?? string.Join(", ", recorded.Missing)}";
    }

    string FeedFile(string feed, DateOnly date) => Path.Combine(lake.Root, "raw", feed, $"dt={Text(date)}", $"{feed}.csv");

    /// <summary>Takes a file out of the landing zone before it is seen (it lands later).</summary>
    static (string Path, string Content)? HoldBack(string path)
    {
        var content = File.ReadAllText(path);
        File.Delete(path);
        Directory.Delete(Path.GetDirectoryName(path)!);
        return (path, content);
    }

    /// <summary>Keeps the last tenth of the day's events back: they land with the next day's files, in a second file for the date.</summary>
    string HoldBackEvents(DateOnly date)
    {
        var path = FeedFile("events", date);
        var lines = File.ReadAllLines(path);
        var late = Math.Max(1, (int)((lines.Length - 1) * LateShare));
        File.WriteAllLines(path, lines[..^late]);
        _lateEvents = string.Join('\n', lines[..1].Concat(lines[^late..])) + "\n";
        return string.Create(CultureInfo.InvariantCulture, $"{late:N0} events of {Text(date)} held back: they land a day late");
    }

    string LandLateEvents(DateOnly date)
    {
        var path = Path.Combine(Path.GetDirectoryName(FeedFile("events", date))!, "events-late.csv");
        File.WriteAllText(path, _lateEvents);
        var count = _lateEvents!.Count(c => c == '\n') - 1;
        _lateEvents = null;
        return string.Create(CultureInfo.InvariantCulture, $"{count:N0} late events of {Text(date)} landed (raw/events/dt={Text(date)}/events-late.csv)");
    }

    static string Text(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
