using System.Globalization;
using Millrace.Definitions.Options;
using Millrace.Definitions.Schema;
using Millrace.Lake;
using YamlDotNet.RepresentationModel;

namespace Millrace.Definitions;

public static partial class ProjectLoader
{
    static readonly IReadOnlyList<string> DeadlineFields = OptionsShape.Of<DeadlineOptions>().Names;
    static readonly IReadOnlyList<string> FreshnessFields = OptionsShape.Of<FreshnessOptions>().Names;

    /// <summary>The most <c>freshness:</c> entries a pipeline may have.</summary>
    public const int MaxFreshnessFeeds = 100;

    /// <summary>Reads <c>deadline: { by: "07:00", timezone: Europe/Berlin, date: today }</c>.</summary>
    static DeadlineDefinition? ReadDeadline(YamlNodeReader reader, YamlMappingNode root)
    {
        if (reader.Mapping(root, "deadline") is not { } map) return null;
        reader.RejectUnknownKeys(map, DeadlineFields, "'deadline'");
        return ReadDue(reader, map, "deadline") is { } due ? new DeadlineDefinition(due, reader.At(map)) : null;
    }

    /// <summary>
    /// Reads <c>freshness:</c>, one <c>{ feed, by, timezone, date }</c> or a list of them. A feed is a lake glob with
    /// <c>{date}</c>; it may not leave the lake, and two entries may not name the same feed.
    /// </summary>
    static IReadOnlyList<FreshnessDefinition> ReadFreshness(YamlNodeReader reader, YamlMappingNode root)
    {
        IReadOnlyList<YamlNode> entries;
        switch (YamlNodeReader.Find(root, "freshness"))
        {
            case null: return [];
            case YamlMappingNode one: entries = [one]; break;
            case YamlSequenceNode list when list.Children.Count is > 0 and <= MaxFreshnessFeeds: entries = list.Children.ToList(); break;
            case YamlSequenceNode list:
                reader.Error(list, $"'freshness' needs between 1 and {MaxFreshnessFeeds} feeds, got {list.Children.Count}");
                return [];
            case var other:
                reader.Error(other, "'freshness' must be a feed { feed: raw/events/dt={date}/*.csv, by: \"05:00\" } or a list of them");
                return [];
        }
        var result = new List<FreshnessDefinition>();
        foreach (var entry in entries)
        {
            if (entry is not YamlMappingNode map) { reader.Error(entry, "each 'freshness' entry must be a mapping with 'feed' and 'by'"); continue; }
            reader.RejectUnknownKeys(map, FreshnessFields, "a 'freshness' entry");
            var feed = ReadFeed(reader, map);
            var due = ReadDue(reader, map, "freshness");
            if (feed is null || due is null) continue;
            if (result.Any(f => f.Feed == feed)) { reader.Error(YamlNodeReader.Find(map, "feed")!, $"feed '{feed}' is listed twice under 'freshness'"); continue; }
            result.Add(new FreshnessDefinition(feed, due, reader.At(map)));
        }
        return result;
    }

    static string? ReadFeed(YamlNodeReader reader, YamlMappingNode map)
    {
        var feed = reader.String(map, "feed", required: true);
        if (feed is null) return null;
        var node = YamlNodeReader.Find(map, "feed")!;
        if (!feed.Contains(FreshnessDefinition.DatePlaceholder, StringComparison.Ordinal))
        {
            reader.Error(node, $"feed '{feed}' has no {{date}}: write where the files of one date land, such as raw/events/dt={{date}}/*.csv");
            return null;
        }
        var expanded = feed.Replace(FreshnessDefinition.DatePlaceholder, "2000-01-01", StringComparison.Ordinal);
        if (expanded.IndexOfAny(['{', '}', '$']) >= 0)
        {
            reader.Error(node, $"feed '{feed}' may hold only the placeholder {{date}} (the run date, yyyy-MM-dd), no other '{{', '}}' or '$'");
            return null;
        }
        try
        {
            LakePath.RefuseEncoded(expanded, feed);
            if (LakePath.Fold(expanded, feed).Length == 0) throw new LakePathException($"feed '{feed}' names the lake root");
        }
        catch (LakePathException e)
        {
            reader.Error(node, $"feed '{feed}' is not a path inside the lake: {e.Message}");
            return null;
        }
        return feed;
    }

    /// <summary>Reads <c>by</c> (<c>HH:mm</c>), <c>timezone</c> (an IANA zone, UTC by default) and <c>date</c> (today or yesterday).</summary>
    static DueTime? ReadDue(YamlNodeReader reader, YamlMappingNode map, string what)
    {
        var byText = reader.String(map, "by", required: true);
        TimeOnly? by = null;
        if (byText is not null)
        {
            if (byText.Length == 5 && TimeOnly.TryParseExact(byText, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)) by = parsed;
            else reader.Error(YamlNodeReader.Find(map, "by")!, $"{what}: 'by' must be a time of day HH:mm on the 24-hour clock, such as \"07:00\" (quote it), got '{byText}'");
        }
        var timezone = reader.String(map, "timezone") ?? "UTC";
        var zoneKnown = ProjectValidator.TryFindTimeZone(timezone);
        if (!zoneKnown)
            reader.Error(YamlNodeReader.Find(map, "timezone")!, $"{what}: unknown time zone '{timezone}' (use an IANA name such as UTC or Europe/Berlin)");
        var dateText = reader.String(map, "date") ?? "today";
        int? lag = dateText switch { "today" => 0, "yesterday" => 1, _ => null };
        if (lag is null) reader.Error(YamlNodeReader.Find(map, "date")!, $"{what}: 'date' must be today or yesterday, got '{dateText}'");
        return by is { } time && zoneKnown && lag is { } days ? new DueTime(time, timezone, days) : null;
    }
}
