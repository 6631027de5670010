using Millrace.Storage;

namespace Millrace.Engine.Dates;

/// <summary>
/// What is known about one run date of a pipeline, gathered by the <see cref="PipelineDates.Sources"/>: its runs (from
/// the run store) and the facts other concerns own (feeds still missing, staleness, a missed deadline).
/// <see cref="DateStatusRules.StatusOf"/> turns them into one <see cref="DateStatus"/>.
/// </summary>
public sealed record DateFacts
{
    /// <summary>Nothing known: no run, no other fact.</summary>
    public static DateFacts None { get; } = new();

    /// <summary>The date's runs, or null when it has none.</summary>
    public RunDateSummary? Runs { get; init; }

    /// <summary>The feeds (landing patterns with the date filled in) that have not landed and settled for the date.</summary>
    public IReadOnlyList<string> MissingFeeds { get; init; } = [];

    /// <summary>Every feed has files but they have not settled yet (or never settle): the trigger still waits.</summary>
    public bool Settling { get; init; }

    /// <summary>Why what the date published is stale (a late or rewritten file), or null when it is not.</summary>
    public string? StaleReason { get; init; }

    /// <summary>When the date's deadline passed with no run succeeded, or null.</summary>
    public DateTimeOffset? DeadlineMissedAt { get; init; }

    /// <summary>Anything else to show beside the date.</summary>
    public string? Note { get; init; }

    /// <summary>The status of the run that speaks for the date, or null without runs.</summary>
    public RunStatus? LatestStatus => Runs?.Latest.Status;

    /// <summary>The date's runs in <paramref name="status"/>.</summary>
    public int Count(RunStatus status) => Runs?.Count(status) ?? 0;
}

/// <summary>
/// The precedence between the facts of a date, as one ordered table: the first rule that holds gives the status, and
/// a date no rule holds for is <see cref="DateStatus.Missing"/>. A new fact is a field of <see cref="DateFacts"/> and
/// one line here. Facts that do not win stay on the date beside its status (a deadline missed before a later success
/// shows as succeeded, with <see cref="PipelineDate.DeadlineMissedAt"/> set).
/// </summary>
public static class DateStatusRules
{
    /// <summary>The rules, first match wins.</summary>
    public static IReadOnlyList<(DateStatus Status, Func<DateFacts, bool> Holds)> Rules { get; } =
    [
        // Work under way says more than any earlier outcome: a rerun of a failed or stale date is what happens next.
        (DateStatus.Running, f => f.Count(RunStatus.Running) > 0),
        (DateStatus.Queued, f => f.Count(RunStatus.Queued) > 0),
        // Stale outputs are wrong whatever the last run did: the date needs a run that succeeds.
        (DateStatus.Stale, f => f.StaleReason is not null),
        (DateStatus.Succeeded, f => f.LatestStatus == RunStatus.Succeeded),
        (DateStatus.UpToDate, f => f.LatestStatus == RunStatus.UpToDate),
        (DateStatus.Failed, f => f.LatestStatus == RunStatus.Failed),
        (DateStatus.Cancelled, f => f.LatestStatus == RunStatus.Cancelled),
        // Nothing finished: a missed deadline outranks waiting for feeds (which stay listed) and skipped runs.
        (DateStatus.DeadlineMissed, f => f.DeadlineMissedAt is not null),
        (DateStatus.Waiting, f => f.MissingFeeds.Count > 0 || f.Settling),
        (DateStatus.Skipped, f => f.LatestStatus == RunStatus.Skipped),
    ];

    /// <summary>The status of a date with <paramref name="facts"/>.</summary>
    public static DateStatus StatusOf(DateFacts facts)
    {
        foreach (var (status, holds) in Rules)
            if (holds(facts)) return status;
        return DateStatus.Missing;
    }
}
