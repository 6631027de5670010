using System.Globalization;

namespace Millrace.Definitions;

/// <summary>What a landing trigger does with files that land (or change) for a date already run (<c>on_late</c>).</summary>
public enum LatePolicy
{
    /// <summary>Start the pipeline again for that date, with the run key <c>late:{date}:{fileset hash}</c>.</summary>
    Rerun,
    /// <summary>Record the late files on the date; start nothing.</summary>
    Ignore,
    /// <summary>Record the late files and mark what the date's run published as stale; start nothing.</summary>
    MarkStale,
}

/// <summary>
/// <c>trigger:</c> of a pipeline: the feeds a date needs (<see cref="Feeds"/>), how long their files must stay unchanged
/// (<see cref="Settle"/>), the first date considered, what late files do, how far back dates are listed again
/// (<see cref="LateWindow"/>) and how often <c>millrace serve</c> lists (<see cref="Poll"/>).
/// </summary>
public sealed record TriggerDefinition(IReadOnlyList<LandingFeed> Feeds, TimeSpan Settle, DateOnly From, LatePolicy OnLate, TimeSpan LateWindow, TimeSpan Poll,
    SourceLocation Location)
{
    public static readonly TimeSpan DefaultSettle = TimeSpan.FromMinutes(2);
    public static readonly TimeSpan DefaultLateWindow = TimeSpan.FromDays(7);
    public static readonly TimeSpan DefaultPoll = TimeSpan.FromSeconds(30);

    /// <summary>A date whose files still change this many settle periods after they were all there is reported as never settling.</summary>
    public const int NeverSettlingFactor = 10;

    /// <summary>The late window in whole days (at least 1).</summary>
    public int LateWindowDays => Math.Max(1, (int)Math.Ceiling(LateWindow.TotalDays));
}

/// <summary>
/// One feed of a landing trigger: a lake-relative glob with one <c>{date}</c> placeholder, split where the date is.
/// <see cref="Prefix"/> (everything before the date) holds no wildcard, so a date's files are listed under
/// <c>Prefix + date</c> and new dates by one delimiter listing of <see cref="Folder"/>.
/// </summary>
/// <param name="Pattern">The pattern as written.</param>
/// <param name="Prefix">The literal text before the date, such as <c>raw/events/dt=</c>.</param>
/// <param name="DateFormat">How the date is written: <c>yyyy-MM-dd</c>, <c>yyyyMMdd</c>, <c>yyyy_MM_dd</c> or <c>yyyy.MM.dd</c>.</param>
/// <param name="Suffix">The glob after the date, such as <c>/*.csv</c>.</param>
/// <param name="Location">Where the pattern is written.</param>
public sealed record LandingFeed(string Pattern, string Prefix, string DateFormat, string Suffix, SourceLocation Location)
{
    /// <summary>The folder the delimiter listing of new dates runs in: <see cref="Prefix"/> up to its last <c>/</c>.</summary>
    public string Folder => Prefix[..(Prefix.LastIndexOf('/') + 1)];

    /// <summary>The date as this feed writes it.</summary>
    public string Format(DateOnly date) => date.ToString(DateFormat, CultureInfo.InvariantCulture);

    /// <summary>The listing prefix of one date's files: <see cref="Prefix"/> and the date.</summary>
    public string PrefixFor(DateOnly date) => Prefix + Format(date);

    /// <summary>The glob of one date's files.</summary>
    public string GlobFor(DateOnly date) => PrefixFor(date) + Suffix;

    /// <summary>The date a listed path or folder under <see cref="Prefix"/> is for, or null when it holds none.</summary>
    public DateOnly? DateOf(string path)
    {
        if (!path.StartsWith(Prefix, StringComparison.Ordinal) || path.Length < Prefix.Length + DateFormat.Length) return null;
        return DateOnly.TryParseExact(path.AsSpan(Prefix.Length, DateFormat.Length), DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date : null;
    }
}
