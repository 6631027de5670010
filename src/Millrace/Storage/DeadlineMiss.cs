namespace Millrace.Storage;

/// <summary>What was due: a run that succeeded (<c>deadline:</c>) or a feed's files in the lake (<c>freshness:</c>).</summary>
public enum DeadlineKind { Deadline, Freshness }

/// <summary>
/// A deadline or freshness check that was missed, recorded once per (project, pipeline, kind, run date, feed): by
/// whichever node saw it first, with the anomaly recorded beside it. A date done late keeps its miss, with
/// <see cref="MetAt"/> saying when it was done after all.
/// </summary>
public sealed record DeadlineMiss
{
    public required string ProjectId { get; init; }
    public required string Pipeline { get; init; }
    public required DeadlineKind Kind { get; init; }
    public required DateOnly RunDate { get; init; }
    /// <summary>The feed pattern as written (with <c>{date}</c>) for a freshness miss; empty for a deadline.</summary>
    public required string Feed { get; init; }
    /// <summary>The instant the date was due (<c>by</c> in its time zone).</summary>
    public required DateTimeOffset DueAt { get; init; }
    /// <summary><c>by</c> and the time zone as written, for messages: <c>07:00 Europe/Berlin</c>.</summary>
    public required string DueText { get; init; }
    /// <summary>What was missing: the state of the date's latest run, or the feed's pattern for the date.</summary>
    public required string Missing { get; init; }
    public required DateTimeOffset RecordedAt { get; init; }
    /// <summary>The node that recorded the miss (and sends its webhooks).</summary>
    public required string Node { get; init; }
    /// <summary>The <c>deadline_missed</c> or <c>freshness_missed</c> anomaly recorded with it.</summary>
    public required string AnomalyId { get; init; }
    /// <summary>When the date was done after all: the end of its first succeeded run, or when the feed's files were first seen.</summary>
    public DateTimeOffset? MetAt { get; init; }
    /// <summary>When a node took on sending the miss's webhooks (null: not yet).</summary>
    public DateTimeOffset? NotifiedAt { get; init; }

    /// <summary>The anomaly kind of a miss: <c>deadline_missed</c> or <c>freshness_missed</c>.</summary>
    public string AnomalyKind => AnomalyKindOf(Kind);

    /// <summary>The anomaly kind of <paramref name="kind"/>.</summary>
    public static string AnomalyKindOf(DeadlineKind kind) => kind == DeadlineKind.Deadline ? "deadline_missed" : "freshness_missed";
}
