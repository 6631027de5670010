using System.Globalization;
using System.Text.Json;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Lake;
using Millrace.Storage;

namespace Millrace.Deadlines;

/// <summary>One deadline or freshness check of one run date, as an evaluation found it.</summary>
/// <param name="Pipeline">The pipeline.</param>
/// <param name="Kind">A deadline or a freshness check.</param>
/// <param name="RunDate">The run date checked.</param>
/// <param name="Feed">The feed pattern (with <c>{date}</c>) of a freshness check; empty for a deadline.</param>
/// <param name="DueAt">The instant the date was due.</param>
/// <param name="Missed">True when the date was not done by <paramref name="DueAt"/> (recorded now or before).</param>
/// <param name="Missing">What was missing, for a missed check.</param>
/// <param name="MetAt">When a missed date was done after all (null: not yet, or it was not missed).</param>
public sealed record DeadlineCheck(string Pipeline, DeadlineKind Kind, DateOnly RunDate, string Feed, DateTimeOffset DueAt, bool Missed, string? Missing, DateTimeOffset? MetAt);

/// <summary>What one evaluation found: every check of a due date, the misses it recorded, and the checks it could not make.</summary>
/// <param name="At">The clock's now the evaluation used.</param>
/// <param name="Checks">Every check of a date whose due time had passed.</param>
/// <param name="Recorded">The misses this evaluation recorded first (another node's or an earlier evaluation's are in <paramref name="Checks"/> only).</param>
/// <param name="Problems">Checks that could not be made (a lake that cannot be listed), one line each; they are made again next time.</param>
public sealed record DeadlineEvaluation(DateTimeOffset At, IReadOnlyList<DeadlineCheck> Checks, IReadOnlyList<DeadlineMiss> Recorded, IReadOnlyList<string> Problems);

/// <summary>
/// Evaluates the <c>deadline:</c> and <c>freshness:</c> of a project's pipelines at the clock's now, without any run
/// happening. For each run date whose due time passed within the last <see cref="Lookback"/>: a deadline is missed unless a run of the pipeline for that date ended <c>Succeeded</c> (or up to date) by the due time
/// (queued, running or failed runs do not count); a freshness check is missed when no file matches the feed's glob for
/// the date when it is evaluated. Each miss is recorded once (<see cref="IDeadlineStore.TryRecordDeadlineMissAsync"/>),
/// with a <c>deadline_missed</c> or <c>freshness_missed</c> anomaly, however many evaluators share the store. A date
/// done late keeps its miss and gets the time it was done (<see cref="DeadlineMiss.MetAt"/>).
/// </summary>
public sealed class DeadlineEvaluator(ProjectDefinition project, IMetadataStore store, LakeRoot lake, TimeProvider clock, NodeIdentity node)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>How far back due times are still evaluated by default: a day.</summary>
    public static readonly TimeSpan DefaultLookback = TimeSpan.FromDays(1);

    /// <summary>
    /// How far back from now due times are evaluated: a date whose due time is older is not evaluated (a server down
    /// longer records no older misses). Keep it longer than the time between two evaluations.
    /// </summary>
    public TimeSpan Lookback { get; init; } = DefaultLookback;

    /// <summary>Evaluates every pipeline with a deadline or freshness checks once.</summary>
    public async Task<DeadlineEvaluation> EvaluateAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var checks = new List<DeadlineCheck>();
        var recorded = new List<DeadlineMiss>();
        var problems = new List<string>();
        foreach (var pipeline in project.Pipelines.Values.Where(p => p.Deadline is not null || p.Freshness.Count > 0).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            var dates = new List<(DeadlineKind Kind, FreshnessDefinition? Feed, DueTime Due, DateOnly Date)>();
            if (pipeline.Deadline is { } deadline) dates.AddRange(deadline.Due.PassedDates(now, Lookback).Select(d => (DeadlineKind.Deadline, (FreshnessDefinition?)null, deadline.Due, d)));
            foreach (var feed in pipeline.Freshness) dates.AddRange(feed.Due.PassedDates(now, Lookback).Select(d => (DeadlineKind.Freshness, (FreshnessDefinition?)feed, feed.Due, d)));
            if (dates.Count == 0) continue;
            var known = (await store.ListDeadlineMissesAsync(project.Id, pipeline.Name, dates.Min(d => d.Date), dates.Max(d => d.Date), ct))
                .ToDictionary(m => (m.Kind, m.RunDate, m.Feed));
            foreach (var (kind, feed, due, date) in dates)
            {
                var dueAt = due.DueAt(date);
                var existing = known.GetValueOrDefault((kind, date, feed?.Feed ?? ""));
                try
                {
                    var (met, metAt, missing, runId) = kind == DeadlineKind.Deadline
                        ? await DeadlineStateAsync(pipeline.Name, date, dueAt, ct)
                        : await FreshnessStateAsync(feed!, date, now, ct);
                    if (existing is not null)
                    {
                        // Missed before: it stays missed; once done, it is marked with when (met late).
                        if (existing.MetAt is null && metAt is { } doneAt && await store.MarkDeadlineMetAsync(existing, doneAt, ct)) existing = existing with { MetAt = doneAt };
                        checks.Add(new DeadlineCheck(pipeline.Name, kind, date, existing.Feed, dueAt, true, existing.Missing, existing.MetAt));
                        continue;
                    }
                    if (met) { checks.Add(new DeadlineCheck(pipeline.Name, kind, date, feed?.Feed ?? "", dueAt, false, null, null)); continue; }
                    var miss = new DeadlineMiss
                    {
                        ProjectId = project.Id, Pipeline = pipeline.Name, Kind = kind, RunDate = date, Feed = feed?.Feed ?? "", DueAt = dueAt,
                        DueText = $"{due.ByText} {due.Timezone}", Missing = missing!, RecordedAt = now, Node = node.Owner,
                        AnomalyId = Guid.NewGuid().ToString("n"), MetAt = metAt,
                    };
                    if (await store.TryRecordDeadlineMissAsync(miss, AnomalyOf(miss, feed, runId), ct)) recorded.Add(miss);
                    checks.Add(new DeadlineCheck(pipeline.Name, kind, date, miss.Feed, dueAt, true, missing, metAt));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or LakePathException)
                {
                    problems.Add($"pipeline '{pipeline.Name}': the {(kind == DeadlineKind.Deadline ? "deadline" : $"freshness of {feed!.Feed}")} for {Text(date)} could not be checked: {e.Message}");
                }
            }
        }
        return new DeadlineEvaluation(now, checks, recorded, problems);
    }

    /// <summary>Met when a run of the pipeline for the date ended Succeeded by the due time; else what the date's latest run is doing.</summary>
    async Task<(bool Met, DateTimeOffset? DoneAt, string? Missing, string? RunId)> DeadlineStateAsync(string pipeline, DateOnly date, DateTimeOffset dueAt, CancellationToken ct)
    {
        var runs = (await store.FindRunsAsync(new RunFilter(project.Id, pipeline, RunDate: date), new Page(0, 500), ct)).Where(r => r.TargetKind == "pipeline").ToList();
        var firstSuccess = runs.Where(r => r.Status.IsSuccess() && r.EndedAt is not null).MinBy(r => r.EndedAt);
        if (firstSuccess?.EndedAt <= dueAt) return (true, firstSuccess!.EndedAt, null, firstSuccess.Id);
        var latest = runs.MaxBy(r => r.CreatedAt);
        var missing = latest is null
            ? $"no run for {Text(date)}"
            : $"no succeeded run for {Text(date)}: the latest, {latest.Id}, was {latest.Status.ToString().ToLowerInvariant()}";
        if (firstSuccess is not null) missing = $"no run for {Text(date)} had succeeded: the first to succeed, {firstSuccess.Id}, ended at {firstSuccess.EndedAt:yyyy-MM-dd HH:mm:ss}Z";
        return (false, firstSuccess?.EndedAt, missing, (firstSuccess ?? latest)?.Id);
    }

    /// <summary>Met when a file matches the feed's glob for the date (listing only the glob's folder prefix); done when seen, now.</summary>
    async Task<(bool Met, DateTimeOffset? DoneAt, string? Missing, string? RunId)> FreshnessStateAsync(FreshnessDefinition feed, DateOnly date, DateTimeOffset now, CancellationToken ct)
    {
        var pattern = feed.PatternFor(date);
        var files = await LakeGlob.MatchAsync(lake, pattern, ct);
        return files.Count > 0 ? (true, now, null, null) : (false, null, $"no file matches {pattern}", null);
    }

    Anomaly AnomalyOf(DeadlineMiss miss, FreshnessDefinition? feed, string? runId)
    {
        var message = miss.Kind == DeadlineKind.Deadline
            ? $"pipeline '{miss.Pipeline}': no run for {Text(miss.RunDate)} succeeded by {miss.DueText} ({miss.DueAt:yyyy-MM-dd HH:mm}Z); {miss.Missing}"
            : $"pipeline '{miss.Pipeline}': feed {feed!.PatternFor(miss.RunDate)} had no file by {miss.DueText} ({miss.DueAt:yyyy-MM-dd HH:mm}Z)";
        return new Anomaly
        {
            Id = miss.AnomalyId,
            // Not the date's run: the miss is no finding of that run (its run.* webhooks must not carry it); the run is in the details.
            RunId = "",
            Kind = miss.AnomalyKind,
            Severity = AnomalySeverity.Warning,
            Policy = "alert",
            Message = message,
            DetailsJson = JsonSerializer.Serialize(new
            {
                pipeline = miss.Pipeline, runDate = Text(miss.RunDate), dueAt = miss.DueAt, due = miss.DueText,
                feed = feed?.Feed, pattern = feed?.PatternFor(miss.RunDate), missing = miss.Missing, runId, node = miss.Node,
            }, Json),
            CreatedAt = miss.RecordedAt,
        };
    }

    static string Text(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
