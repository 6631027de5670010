using System.Globalization;
using System.Text.RegularExpressions;
using Millrace.Definitions.Options;
using Millrace.Definitions.Schema;
using YamlDotNet.RepresentationModel;

namespace Millrace.Definitions;

/// <summary>Reads a pipeline's <c>trigger:</c> (a landing trigger, see docs/triggers.md).</summary>
public static partial class ProjectLoader
{
    static readonly IReadOnlyList<string> TriggerFields = OptionsShape.Of<TriggerOptions>().Names;

    /// <summary>How long a date's files must stay unchanged at most; the poll interval's bounds; the late window's.</summary>
    static readonly DurationBounds SettleBounds = new(TimeSpan.FromDays(1), AllowZero: true);
    static readonly DurationBounds PollBounds = new(TimeSpan.FromDays(1));
    static readonly DurationBounds LateWindowBounds = new(TimeSpan.FromDays(366));

    /// <summary>The most feeds one trigger may name.</summary>
    public const int MaxFeeds = 50;

    [GeneratedRegex(@"\{date(?::([^}]*))?\}", RegexOptions.CultureInvariant)]
    private static partial Regex DatePlaceholder();

    [GeneratedRegex(@"^yyyy([-_.]?)MM\1dd$", RegexOptions.CultureInvariant)]
    private static partial Regex DailyFormat();

    static TriggerDefinition? ReadTrigger(YamlNodeReader reader, YamlMappingNode root)
    {
        if (reader.Mapping(root, "trigger") is not { } map) return null;
        reader.RejectUnknownKeys(map, TriggerFields, "'trigger'");
        var errorsBefore = reader.Errors.Count;
        var patterns = reader.StringList(map, "when_landed");
        if (patterns.Count == 0)
            reader.Error(YamlNodeReader.Find(map, "when_landed") ?? map, "a trigger needs 'when_landed: [ ... ]' with at least one pattern holding {date}, such as raw/events/dt={date}/*.csv");
        if (patterns.Count > MaxFeeds)
            reader.Error(YamlNodeReader.Find(map, "when_landed")!, string.Create(CultureInfo.InvariantCulture, $"a trigger names at most {MaxFeeds} feeds, got {patterns.Count}"));
        var feeds = new List<LandingFeed>();
        foreach (var (pattern, location) in patterns)
        {
            if (ReadFeed(pattern, location, reader.Errors) is not { } feed) continue;
            if (feeds.FirstOrDefault(f => f.Pattern == feed.Pattern) is { } same)
                reader.Errors.Add(new DefinitionError(location, null, $"the feed '{pattern}' is named twice (first at line {same.Location.Line}); name each feed once"));
            else feeds.Add(feed);
        }

        var settle = reader.Duration(map, "settle", SettleBounds) ?? TriggerDefinition.DefaultSettle;
        var poll = reader.Duration(map, "poll", PollBounds) ?? TriggerDefinition.DefaultPoll;
        var lateWindow = reader.Duration(map, "late_window", LateWindowBounds) ?? TriggerDefinition.DefaultLateWindow;
        if (lateWindow < TimeSpan.FromDays(1))
            reader.Error(YamlNodeReader.Find(map, "late_window")!, $"field 'late_window' must be at least 1d, got '{Durations.Format(lateWindow)}'");
        var fromText = reader.String(map, "from");
        DateOnly from = default;
        if (fromText is null) reader.Error(map, "a trigger needs 'from: yyyy-MM-dd', the earliest date to consider (dates before it are never run)");
        else if (!DateOnly.TryParseExact(fromText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out from))
            reader.Error(YamlNodeReader.Find(map, "from")!, $"field 'from' must be a date written yyyy-MM-dd, got '{Shown(fromText)}'");
        var onLateText = reader.String(map, "on_late") ?? "rerun";
        LatePolicy? onLate = onLateText switch { "rerun" => LatePolicy.Rerun, "ignore" => LatePolicy.Ignore, "mark_stale" => LatePolicy.MarkStale, _ => null };
        if (onLate is null) reader.Error(YamlNodeReader.Find(map, "on_late")!, $"'on_late' must be rerun, ignore or mark_stale, got '{Shown(onLateText)}'");
        if (reader.Errors.Count > errorsBefore) return null;
        return new TriggerDefinition(feeds, settle, from, onLate!.Value, lateWindow, poll, reader.At(map));
    }

    /// <summary>Splits one <c>when_landed</c> pattern at its <c>{date}</c>; reports why it cannot be a feed.</summary>
    static LandingFeed? ReadFeed(string pattern, SourceLocation location, List<DefinitionError> errors)
    {
        void Error(string message) => errors.Add(new DefinitionError(location, null, $"when_landed pattern '{Shown(pattern)}': {message}"));
        var placeholders = DatePlaceholder().Matches(pattern);
        if (placeholders.Count == 0)
        {
            Error("it has no {date}: write where the date is, such as raw/events/dt={date}/*.csv, so each date's files can be told apart");
            return null;
        }
        if (placeholders.Count > 1)
        {
            Error("it holds {date} more than once; write it once, where the listing can find it (the first folder or file name that holds the date)");
            return null;
        }
        var path = DatePlaceholder().Replace(pattern, "D");
        if (path.StartsWith('/') || path.Contains('\\', StringComparison.Ordinal) || path.Contains(':', StringComparison.Ordinal)
            || path.Split('/').Any(s => s is ".." or "." or ""))
        {
            Error("it must be a path inside the lake: relative, with forward slashes and no empty, '.' or '..' segment");
            return null;
        }
        var placeholder = placeholders[0];
        var prefix = pattern[..placeholder.Index];
        var suffix = pattern[(placeholder.Index + placeholder.Length)..];
        if (prefix.IndexOfAny(['*', '?', '[']) >= 0)
        {
            Error("a wildcard comes before {date}; the part before the date must be written out, so that a poll lists only that prefix");
            return null;
        }
        if (suffix.Contains('{', StringComparison.Ordinal) || suffix.Contains('}', StringComparison.Ordinal))
        {
            Error("only {date} may be written in braces");
            return null;
        }
        var format = placeholder.Groups[1].Success ? placeholder.Groups[1].Value : "yyyy-MM-dd";
        if (!DailyFormat().IsMatch(format))
        {
            Error(format.Contains("dd", StringComparison.Ordinal) && format.Contains("MM", StringComparison.Ordinal) && format.Contains("yyyy", StringComparison.Ordinal)
                ? $"the date format '{Shown(format)}' is not supported; write yyyy-MM-dd, yyyyMMdd, yyyy_MM_dd or yyyy.MM.dd (year, month, day in that order, so dates sort as text)"
                : $"the date format '{Shown(format)}' does not name a whole day (year, month and day); it could never agree with the other feeds on a date");
            return null;
        }
        if (suffix.Length > 0 && char.IsAsciiDigit(suffix[0]))
        {
            Error("a digit follows {date}, so the date cannot be told from the text after it");
            return null;
        }
        return new LandingFeed(pattern, prefix, format, suffix, location);
    }

    /// <summary>The value as an error may quote it: at most 60 characters, control characters escaped.</summary>
    static string Shown(string text)
    {
        var shown = text.Length > 60 ? text[..60] + "…" : text;
        return string.Concat(shown.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }
}
