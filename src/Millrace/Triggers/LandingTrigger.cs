using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Lake;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Triggers;

/// <summary>A run a poll requested for a date: its run key, and whether the key named an earlier run (nothing new started).</summary>
public sealed record LandingStart(DateOnly Date, string RunId, string RunKey, bool Late, bool Duplicate);

/// <summary>What one poll of a pipeline's landing trigger saw and did, with the listing calls it made.</summary>
public sealed record LandingPollResult(string Pipeline, IReadOnlyList<LandingDate> Dates, IReadOnlyList<LandingStart> Started, int Listings);

/// <summary>
/// One poll of a pipeline's landing trigger (<c>trigger:</c>): lists the feeds with a bounded listing, decides per date
/// (waiting, settling, started, late, never settling; <see cref="LandingDecision"/>), records the dates in the store
/// (<see cref="ILandingStore"/>) and requests each date's run through the run coordinator, once: the run key
/// <c>date:{date}</c> for a date's first run and <c>late:{date}:{fileset hash}</c> for a rerun on late files, so two
/// nodes, a restart or a duplicate notification never start one twice. Usable without a server: the quickstart calls
/// it per simulated day with its own coordinator and clock.
/// </summary>
/// <remarks>
/// The listing is bounded: per feed, one delimiter listing of the folder of the literal prefix before <c>{date}</c>,
/// starting after the first date of the late window (the newest date recorded minus <c>late_window</c>, at the
/// earliest <c>from</c>), then one listing of each date's own prefix for the dates found there, the dates recorded in
/// the window and the dates still open. The cost follows the window and the open dates, not the lake's history.
/// </remarks>
public sealed class LandingTrigger(RunCoordinator coordinator, LakeRoot lake, ILogger? logger = null)
{
    /// <summary>Who the trigger's run requests are recorded as requested by.</summary>
    public const string RequestedBy = "landing trigger";

    readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>The run key of a date's first run.</summary>
    public static string DateKey(DateOnly date) => "date:" + Text(date);

    /// <summary>The run key of a date's rerun on late files: one per distinct fileset.</summary>
    public static string LateKey(DateOnly date, string filesetHash) => $"late:{Text(date)}:{filesetHash}";

    static string Text(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>
    /// Polls <paramref name="pipeline"/>'s trigger once. Throws <see cref="LakeStorageException"/> (or an
    /// <see cref="IOException"/>) when the lake cannot be listed: nothing is recorded then, and the stored state is kept.
    /// </summary>
    public async Task<LandingPollResult> PollAsync(PipelineDefinition pipeline, CancellationToken ct)
    {
        var trigger = pipeline.Trigger ?? throw new ArgumentException($"pipeline '{pipeline.Name}' has no trigger", nameof(pipeline));
        var store = coordinator.Store;
        var projectId = coordinator.Project.Id;
        var listings = 0;
        var newest = await store.GetNewestLandingDateAsync(projectId, pipeline.Name, ct);
        var windowStart = newest is { } n && n.AddDays(-trigger.LateWindowDays) > trigger.From ? n.AddDays(-trigger.LateWindowDays) : trigger.From;

        var known = new Dictionary<DateOnly, LandingDate>();
        foreach (var date in await store.ListOpenLandingDatesAsync(projectId, pipeline.Name, ct)) known[date.Date] = date;
        foreach (var date in await store.ListLandingDatesAsync(projectId, pipeline.Name, windowStart, DateOnly.MaxValue, ct)) known[date.Date] = date;
        var candidates = new SortedSet<DateOnly>(known.Keys);
        foreach (var feed in trigger.Feeds)
        {
            // Entries after the day before the window: the window's first date is listed again, nothing older.
            var startAfter = windowStart > DateOnly.MinValue ? feed.PrefixFor(windowStart.AddDays(-1)) : null;
            listings++;
            foreach (var entry in await lake.Storage.ListChildrenAsync(feed.Prefix, startAfter, ct))
                if (feed.DateOf(entry) is { } date && date >= windowStart) candidates.Add(date);
        }

        // List every candidate first, so that a lake failing half-way records nothing.
        var observed = new List<(DateOnly Date, LandingObservation Observation)>();
        foreach (var date in candidates)
        {
            var files = new List<IReadOnlyList<LakeFile>>();
            foreach (var feed in trigger.Feeds)
            {
                listings++;
                files.Add(await LakeGlob.MatchAsync(lake, feed.GlobFor(date), ct));
            }
            observed.Add((date, LandingObservation.Of(trigger, files)));
        }

        var now = coordinator.Clock.GetUtcNow();
        var dates = new List<LandingDate>();
        var started = new List<LandingStart>();
        foreach (var (date, observation) in observed)
        {
            var before = known.GetValueOrDefault(date) ?? new LandingDate { ProjectId = projectId, Pipeline = pipeline.Name, Date = date, State = LandingState.Waiting, UpdatedAt = now };
            var decision = LandingDecision.Decide(trigger, before, observation, now);
            var after = decision.Date;
            if (decision.Action == LandingAction.StartFirst)
                after = await StartAsync(pipeline, after, DateKey(date), late: false, started, ct);
            else if (decision.Action == LandingAction.HandleLate)
                after = await OnLateAsync(pipeline, trigger, after, started, ct);
            if (after == before) { dates.Add(before); continue; }
            if (await store.SaveLandingDateAsync(after with { UpdatedAt = now }, ct)) dates.Add(after with { UpdatedAt = now, Revision = before.Revision + 1 });
            else
            {
                _logger.LogDebug("{Project}/{Pipeline} {Date}: another node recorded the date first; the next poll looks again", projectId, pipeline.Name, Text(date));
                dates.Add(before);
            }
        }
        return new LandingPollResult(pipeline.Name, dates, started, listings);
    }

    /// <summary>
    /// Applies <c>on_late</c> to a date whose files changed after its run and have settled again: <c>rerun</c> requests
    /// the rerun (run key <c>late:{date}:{hash}</c>), <c>ignore</c> and <c>mark_stale</c> record the files only.
    /// </summary>
    async Task<LandingDate> OnLateAsync(PipelineDefinition pipeline, TriggerDefinition trigger, LandingDate date, List<LandingStart> started, CancellationToken ct)
    {
        // For rerun and mark_stale (not ignore): what the date's earlier runs published is stale until a run of it succeeds.
        if (trigger.OnLate != LatePolicy.Ignore)
            await coordinator.Store.MarkStaleAsync(coordinator.Project.Id, pipeline.Name, date.Date,
                $"late or changed files for {Text(date.Date)} after run {date.RunId}", ct);
        switch (trigger.OnLate)
        {
            case LatePolicy.Rerun:
                return await StartAsync(pipeline, date, LateKey(date.Date, date.FilesetHash!), late: true, started, ct);
            case LatePolicy.MarkStale:
                _logger.LogWarning("{Project}/{Pipeline} {Date}: late files after run {RunId}; recorded, not rerun (on_late: mark_stale)", coordinator.Project.Id, pipeline.Name, Text(date.Date), date.RunId);
                return date with { State = LandingState.LateRecorded, RunHash = date.FilesetHash, UnsettledSince = null, Note = $"late files after run {date.RunId}: recorded, not rerun (on_late: mark_stale)" };
            default:
                _logger.LogInformation("{Project}/{Pipeline} {Date}: late files after run {RunId}; recorded, not rerun (on_late: ignore)", coordinator.Project.Id, pipeline.Name, Text(date.Date), date.RunId);
                return date with { State = LandingState.LateRecorded, RunHash = date.FilesetHash, UnsettledSince = null, Note = $"late files after run {date.RunId}: recorded, not rerun (on_late: ignore)" };
        }
    }

    /// <summary>Requests the date's run with <paramref name="runKey"/>; a request the coordinator refuses leaves the date ready, with the reason.</summary>
    async Task<LandingDate> StartAsync(PipelineDefinition pipeline, LandingDate date, string runKey, bool late, List<LandingStart> started, CancellationToken ct)
    {
        var request = new RunRequest(pipeline.Name, [new(BuiltInParameters.RunDate, Text(date.Date))], TriggerKind.Landing, RunKey: runKey);
        try
        {
            // A date waits for its turn rather than being skipped: its run key is spent once recorded.
            var result = await coordinator.SubmitAsync(request, new RunRequestInfo(RequestedBy: RequestedBy), new SubmitOptions(ApplyOverlapPolicy: false), ct);
            started.Add(new LandingStart(date.Date, result.Run.Id, runKey, late, result.Earlier));
            if (!result.Earlier)
                _logger.LogInformation("{Project}/{Pipeline} {Date}: {What}: run {RunId} ({RunKey})", coordinator.Project.Id, pipeline.Name, Text(date.Date),
                    late ? "late files settled, rerun" : "every feed landed and settled", result.Run.Id, runKey);
            var previous = date.RunId;
            return date with
            {
                State = LandingState.Started, RunId = result.Run.Id, RunHash = date.FilesetHash, UnsettledSince = null,
                Note = late ? $"rerun for late files (run {previous} was for earlier files)" : null,
            };
        }
        catch (RunRequestException e)
        {
            _logger.LogError("{Project}/{Pipeline} {Date}: the date landed but no run could be requested: {Error}", coordinator.Project.Id, pipeline.Name, Text(date.Date), e.Message);
            return date with { State = late ? LandingState.Late : LandingState.Ready, Note = $"no run could be requested: {e.Message}" };
        }
    }
}
