using System.Text;

namespace Millrace.Engine.Dates;

/// <summary>
/// Where one run date of a pipeline stands (<see cref="PipelineDates"/>). Which one a date gets, when several facts
/// hold, is decided in one place: <see cref="DateStatusRules"/>.
/// </summary>
public enum DateStatus
{
    /// <summary>No run and nothing else known about the date.</summary>
    Missing,
    /// <summary>The date's feeds have not all landed (see <see cref="PipelineDate.MissingFeeds"/>).</summary>
    Waiting,
    /// <summary>A run of the date is queued (and none is running).</summary>
    Queued,
    /// <summary>A run of the date is running.</summary>
    Running,
    /// <summary>The date's latest run succeeded.</summary>
    Succeeded,
    /// <summary>The date's latest run failed.</summary>
    Failed,
    /// <summary>The date's latest run was cancelled.</summary>
    Cancelled,
    /// <summary>The date's only runs were skipped (overlap policy).</summary>
    Skipped,
    /// <summary>What the date published is stale (late or corrected files landed after it; see <see cref="PipelineDate.StaleReason"/>).</summary>
    Stale,
    /// <summary>The date's latest run found its inputs unchanged since the last success and did not run again.</summary>
    UpToDate,
    /// <summary>No run of the date succeeded by its deadline, and none has yet.</summary>
    DeadlineMissed,
}

/// <summary>The words users read and write for a <see cref="DateStatus"/>: <c>missing</c>, <c>up_to_date</c>, <c>deadline_missed</c>, ….</summary>
public static class DateStatusNames
{
    /// <summary>The statuses <c>backfill --only</c> accepts: every one but those of a date whose run is under way.</summary>
    public static IReadOnlyList<DateStatus> Backfillable { get; } = [.. Enum.GetValues<DateStatus>().Where(s => s is not (DateStatus.Queued or DateStatus.Running))];

    /// <summary>The status's word: lower case, words joined by '_'.</summary>
    public static string Name(DateStatus status)
    {
        var text = status.ToString();
        var name = new StringBuilder(text.Length + 4);
        foreach (var c in text)
        {
            if (char.IsUpper(c) && name.Length > 0) name.Append('_');
            name.Append(char.ToLowerInvariant(c));
        }
        return name.ToString();
    }

    /// <summary>The status named <paramref name="name"/> (case-insensitive) among <paramref name="choices"/> (all statuses by default).</summary>
    public static bool TryParse(string name, out DateStatus status, IReadOnlyList<DateStatus>? choices = null)
    {
        foreach (var candidate in choices ?? Enum.GetValues<DateStatus>())
            if (string.Equals(Name(candidate), name.Trim(), StringComparison.OrdinalIgnoreCase)) { status = candidate; return true; }
        status = default;
        return false;
    }

    /// <summary>
    /// The statuses of a comma-separated list such as <c>missing,failed,stale</c>, each one of <paramref name="choices"/>;
    /// throws <see cref="FormatException"/> naming the value and listing the choices.
    /// </summary>
    public static IReadOnlySet<DateStatus> ParseList(string list, IReadOnlyList<DateStatus> choices)
    {
        var result = new HashSet<DateStatus>();
        foreach (var item in list.Split(','))
        {
            if (!TryParse(item, out var status, choices))
                throw new FormatException($"unknown date status '{item.Trim()}'; choose from {string.Join(", ", choices.Select(Name))}");
            result.Add(status);
        }
        return result;
    }
}
