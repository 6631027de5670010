using System.Globalization;
using Millrace.Storage;

namespace Millrace.Engine.Dates;

/// <summary>One run date of a pipeline: its status and the facts behind it (<see cref="PipelineDates.ListAsync"/>).</summary>
/// <param name="Date">The run date (<c>run.date</c>).</param>
/// <param name="Status">The status the <see cref="DateStatusRules"/> give the facts below.</param>
/// <param name="LatestRun">The run that speaks for the date (newest not skipped), or null without runs.</param>
/// <param name="RunCounts">The date's runs by status (statuses without runs absent).</param>
/// <param name="MissingFeeds">Feeds of the date not landed yet.</param>
/// <param name="StaleReason">Why the date's outputs are stale, or null.</param>
/// <param name="DeadlineMissedAt">When the date's deadline passed unmet, or null (also set when a run succeeded later).</param>
/// <param name="Note">Anything else to show beside the date.</param>
public sealed record PipelineDate(DateOnly Date, DateStatus Status, Run? LatestRun, IReadOnlyDictionary<RunStatus, int> RunCounts,
    IReadOnlyList<string> MissingFeeds, string? StaleReason, DateTimeOffset? DeadlineMissedAt, string? Note)
{
    /// <summary>All runs of the date.</summary>
    public int RunCount => RunCounts.Values.Sum();

    /// <summary>
    /// One line for people on what the date waits for or why it stands where it does: the missing feeds, the stale
    /// reason, the missed deadline, the latest run's error (for a failed, cancelled or skipped date) and the note.
    /// </summary>
    public string Details
    {
        get
        {
            var parts = new List<string>();
            if (MissingFeeds.Count > 0) parts.Add($"missing: {string.Join(", ", MissingFeeds)}");
            if (StaleReason is not null) parts.Add($"stale: {StaleReason}");
            if (DeadlineMissedAt is { } missed) parts.Add($"deadline missed at {missed.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC");
            if (Status is DateStatus.Failed or DateStatus.Cancelled or DateStatus.Skipped && LatestRun?.Error is { } error) parts.Add(error);
            if (Note is not null) parts.Add(Note);
            return string.Join("; ", parts);
        }
    }

    /// <summary>The date with the status its facts give.</summary>
    public static PipelineDate From(DateOnly date, DateFacts facts) => new(date, DateStatusRules.StatusOf(facts), facts.Runs?.Latest,
        facts.Runs?.Counts ?? new Dictionary<RunStatus, int>(), facts.MissingFeeds, facts.StaleReason, facts.DeadlineMissedAt, facts.Note);
}

/// <summary>Which dates of which target a listing covers.</summary>
public sealed record DateQuery(string ProjectId, string Target, DateOnly From, DateOnly To);

/// <summary>The facts of every date of a <see cref="DateQuery"/>, filled in by the <see cref="PipelineDates.Sources"/>.</summary>
public sealed class DateFactTable
{
    readonly SortedDictionary<DateOnly, DateFacts> _facts = [];

    public DateFactTable(DateQuery query)
    {
        Query = query;
        for (var date = query.From; date <= query.To; date = date.AddDays(1)) _facts[date] = DateFacts.None;
    }

    public DateQuery Query { get; }

    /// <summary>Changes the facts of <paramref name="date"/>; a date outside the query is ignored.</summary>
    public void Update(DateOnly date, Func<DateFacts, DateFacts> change)
    {
        if (_facts.TryGetValue(date, out var facts)) _facts[date] = change(facts);
    }

    /// <summary>The dates, oldest first, with their status.</summary>
    public IReadOnlyList<PipelineDate> Dates() => [.. _facts.Select(f => PipelineDate.From(f.Key, f.Value))];
}

/// <summary>
/// Per-date status: for a pipeline (or workflow) and a range of run dates, one <see cref="PipelineDate"/> per date.
/// <c>millrace status</c>, <c>GET …/pipelines/{name}/dates</c>, the pipeline page and <c>backfill --only</c> all
/// come here, so they agree.
/// </summary>
public sealed class PipelineDates(IMetadataStore store, string projectId)
{
    /// <summary>The longest range, in dates (ten years, as a backfill).</summary>
    public const int MaxDates = RunCoordinator.MaxBackfillDates;

    /// <summary>The dates a listing without a range covers: the last 14 up to today.</summary>
    public const int DefaultDates = 14;

    /// <summary>Adds one concern's facts to the table: one query for the whole range.</summary>
    public delegate Task FactSource(IMetadataStore store, DateFactTable facts, CancellationToken ct);

    /// <summary>
    /// Where the facts come from, in order. A concern that knows something about dates (landing: missing feeds; memo:
    /// staleness; deadlines: missed deadlines) adds its source here.
    /// </summary>
    public static IReadOnlyList<FactSource> Sources { get; } = [RunFactsAsync, LandingFactsAsync, StaleFactsAsync, DeadlineFactsAsync];

    /// <summary>The date's runs, from the run store.</summary>
    static async Task RunFactsAsync(IMetadataStore store, DateFactTable facts, CancellationToken ct)
    {
        var q = facts.Query;
        foreach (var summary in await store.ListRunDatesAsync(q.ProjectId, q.Target, q.From, q.To, ct))
            facts.Update(summary.Date, f => f with { Runs = summary });
    }

    /// <summary>Missed deadlines (the time it passed) and missed freshness checks (as a note naming the feed).</summary>
    static async Task DeadlineFactsAsync(IMetadataStore store, DateFactTable facts, CancellationToken ct)
    {
        var q = facts.Query;
        foreach (var miss in await store.ListDeadlineMissesAsync(q.ProjectId, q.Target, q.From, q.To, ct))
        {
            var late = miss.MetAt is { } met ? string.Create(CultureInfo.InvariantCulture, $", met late at {met:yyyy-MM-dd HH:mm}Z") : "";
            facts.Update(miss.RunDate, f => miss.Kind == DeadlineKind.Deadline
                ? f with { DeadlineMissedAt = miss.DueAt, Note = Join(f.Note, $"deadline {miss.DueText} missed{late}") }
                : f with { Note = Join(f.Note, $"feed {miss.Feed} not landed by {miss.DueText}{late}") });
        }
    }

    /// <summary>Open stale marks: the date's published outputs are stale until a run of it succeeds.</summary>
    static async Task StaleFactsAsync(IMetadataStore store, DateFactTable facts, CancellationToken ct)
    {
        var q = facts.Query;
        foreach (var mark in (await store.ListStaleAsync(q.ProjectId, q.Target, q.From, q.To, ct)).Where(m => m.Open))
            facts.Update(mark.RunDate, f => f with { StaleReason = f.StaleReason ?? mark.Reason });
    }

    static string Join(string? note, string more) => note is null ? more : note + "; " + more;

    /// <summary>The feeds a landing trigger still waits for (waiting and settling dates), and what it noted.</summary>
    static async Task LandingFactsAsync(IMetadataStore store, DateFactTable facts, CancellationToken ct)
    {
        var q = facts.Query;
        foreach (var date in await store.ListLandingDatesAsync(q.ProjectId, q.Target, q.From, q.To, ct))
        {
            var missing = date.State == LandingState.Waiting
                ? date.Missing.Select(feed => feed.Replace("{date}", date.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), StringComparison.Ordinal)).ToList()
                : [];
            facts.Update(date.Date, f => f with { MissingFeeds = missing, Settling = date.State is LandingState.Settling or LandingState.NeverSettling, Note = f.Note ?? (date.State is LandingState.NeverSettling or LandingState.Late ? date.Note : null) });
        }
    }

    /// <summary>Why a range cannot be listed (reversed, or longer than <see cref="MaxDates"/>), or null when it can.</summary>
    public static string? RangeProblem(DateOnly from, DateOnly to) =>
        to < from ? string.Create(CultureInfo.InvariantCulture, $"the range ends ({to:yyyy-MM-dd}) before it starts ({from:yyyy-MM-dd})")
        : to.DayNumber - from.DayNumber >= MaxDates ? string.Create(CultureInfo.InvariantCulture, $"a range covers at most {MaxDates} dates; {from:yyyy-MM-dd} to {to:yyyy-MM-dd} is {to.DayNumber - from.DayNumber + 1}")
        : null;

    /// <summary>Today by <paramref name="clock"/> (UTC, as a run's default <c>run.date</c>).</summary>
    public static DateOnly Today(TimeProvider clock) => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    /// <summary>The range of a listing that gives neither end: the <see cref="DefaultDates"/> dates up to today.</summary>
    public static (DateOnly From, DateOnly To) DefaultRange(TimeProvider clock) => (Today(clock).AddDays(1 - DefaultDates), Today(clock));

    /// <summary>
    /// The dates from <paramref name="from"/> to <paramref name="to"/> (inclusive) of <paramref name="target"/>, oldest
    /// first, every date present (a date without runs or facts is <see cref="DateStatus.Missing"/>). Throws
    /// <see cref="ArgumentException"/> for a range <see cref="RangeProblem"/> refuses.
    /// </summary>
    public async Task<IReadOnlyList<PipelineDate>> ListAsync(string target, DateOnly from, DateOnly to, CancellationToken ct)
    {
        if (RangeProblem(from, to) is { } problem) throw new ArgumentException(problem, nameof(to));
        var facts = new DateFactTable(new DateQuery(projectId, target, from, to));
        foreach (var source in Sources) await source(store, facts, ct);
        return facts.Dates();
    }
}
