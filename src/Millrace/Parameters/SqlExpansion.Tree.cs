using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Millrace.Parameters;

public static partial class SqlExpansion
{
    /// <summary>
    /// The tree the expanded SQL must parse into (<paramref name="tree"/> with each sentinel replaced by its value, by
    /// where DuckDB parsed it) and, per reference, the SQL text that takes the sentinel's place.
    /// </summary>
    static (JsonObject Expected, Dictionary<int, string> Placements) Place(JsonObject tree, string source, Regex sentinel, Func<int, ParameterValue> value, IReadOnlyList<string> names)
    {
        var copy = tree.DeepClone().AsObject();
        var placer = new Placer(source, sentinel, value, names);
        placer.Visit(copy);
        return (copy, placer.Placements);
    }

    sealed class Placer(string source, Regex sentinel, Func<int, ParameterValue> value, IReadOnlyList<string> names)
    {
        public Dictionary<int, string> Placements { get; } = [];

        public void Visit(JsonNode node)
        {
            if (node is JsonObject o)
            {
                foreach (var key in o.Select(p => p.Key).ToList())
                {
                    var child = o[key];
                    if (child is null) continue;
                    if (Standalone(child) is { } replacement) o[key] = replacement;
                    else if (child is JsonValue leaf && leaf.TryGetValue<string>(out var text)) o[key] = PlaceText(o, key, text);
                    else Visit(child);
                }
            }
            else if (node is JsonArray a)
            {
                for (var i = 0; i < a.Count; i++)
                {
                    var child = a[i];
                    if (child is null) continue;
                    if (Standalone(child) is { } replacement) a[i] = replacement;
                    else if (child is JsonValue leaf && leaf.TryGetValue<string>(out var text)) a[i] = PlaceText(null, a.Parent is JsonObject ? a.GetPropertyName() : "", text);
                    else Visit(child);
                }
            }
        }

        /// <summary>For a sentinel standing alone where a value goes (an unquoted name of one part): the value's node.</summary>
        JsonNode? Standalone(JsonNode node)
        {
            if (node is not JsonObject o || Class(o) != "COLUMN_REF" || o["column_names"] is not JsonArray { Count: 1 } parts
                || parts[0]?.GetValue<string>() is not { } name || sentinel.Match(name) is not { Success: true } m || m.Length != name.Length
                || Quoted(o))
                return null;
            var index = Index(m);
            var parameter = value(index);
            Placements[index] = Literal(parameter);
            return ValueNode(parameter, o["query_location"]?.DeepClone(), o["alias"]?.GetValue<string>() ?? "");
        }

        // A name standing alone parses the same quoted or not: the source text at its position tells them apart.
        bool Quoted(JsonObject o) => Location(o) is { } at && source[at] == '"';

        int? Location(JsonObject? o) => o?["query_location"] is JsonValue v && v.TryGetValue<long>(out var at) && at >= 0 && at < source.Length ? (int)at : null;

        JsonNode PlaceText(JsonObject? owner, string key, string text)
        {
            if (!sentinel.IsMatch(text)) return JsonValue.Create(text);
            var inString = key == "value" && owner is not null && owner.ContainsKey("is_null") && owner["type"]?["id"]?.GetValue<string>() == "VARCHAR";
            var quote = inString ? StringKind(Location(owner!.Parent as JsonObject)) : null;
            return JsonValue.Create(sentinel.Replace(text, m =>
            {
                var index = Index(m);
                var parameter = value(index);
                if (inString)
                {
                    Placements[index] = quote switch
                    {
                        "'" => parameter.Text.Replace("'", "''", StringComparison.Ordinal),
                        "E'" => parameter.Text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal),
                        { } tag when !parameter.Text.Contains(tag, StringComparison.Ordinal) => parameter.Text,
                        { } tag => throw new ParameterException($"parameter '{names[index]}' stands in a {tag}…{tag} string, and its value holds {tag}"),
                        null => throw new ParameterException($"parameter '{names[index]}' stands in a string whose kind DuckDB does not locate; write it in a '…' string"),
                    };
                    return parameter.Text;
                }
                if (!NameKeys.Contains(key))
                    throw new ParameterException($"parameter '{names[index]}' stands where DuckDB reads SQL syntax ({key}), not a value: a parameter may stand for a value, inside a string literal, or inside a name");
                if (!PlainWord().IsMatch(parameter.Text))
                    throw new ParameterException($"parameter '{names[index]}' is used inside a name, where its value may hold only letters, digits and '_', got '{Shorten(parameter.Text)}'");
                Placements[index] = parameter.Text;
                return parameter.Text;
            }));
        }

        // The kind of string literal that starts at a constant's position: ', E' or a dollar tag ($$, $tag$).
        string? StringKind(int? at)
        {
            if (at is not { } i) return null;
            if (source[i] == '\'') return "'";
            if (source[i] is 'e' or 'E' && i + 1 < source.Length && source[i + 1] == '\'') return "E'";
            if (source[i] == '$' && source.IndexOf('$', i + 1) is var end and > 0) return source[i..(end + 1)];
            return null;
        }

        static int Index(Match m) => int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
    }

    static string? Class(JsonObject o) => o["class"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    /// <summary>The SQL literal of a parameter's value: a quoted string, or a cast of its canonical text to its type.</summary>
    static string Literal(ParameterValue parameter) => Canonical(parameter) is var (text, type)
        ? type is null ? SqlText.Quote(text) : $"CAST({SqlText.Quote(text)} AS {type})"
        : throw new InvalidOperationException();

    static (string Text, string? Type) Canonical(ParameterValue parameter) => parameter.Value switch
    {
        long l => (l.ToString(CultureInfo.InvariantCulture), "BIGINT"),
        double d => (d.ToString("R", CultureInfo.InvariantCulture), "DOUBLE"),
        bool b => (b ? "true" : "false", "BOOLEAN"),
        DateOnly date => (date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "DATE"),
        DateTime time => (time.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture), "TIMESTAMP"),
        _ => (parameter.Text, null),
    };

    /// <summary>The syntax node DuckDB parses <see cref="Literal"/> into.</summary>
    static JsonObject ValueNode(ParameterValue parameter, JsonNode? location, string alias)
    {
        var (text, type) = Canonical(parameter);
        if (type is null) return Varchar(text, location, alias);
        return new JsonObject
        {
            ["class"] = "CAST",
            ["type"] = "OPERATOR_CAST",
            ["alias"] = alias,
            ["query_location"] = location,
            ["child"] = Varchar(text, location?.DeepClone()),
            ["cast_type"] = new JsonObject { ["id"] = type, ["type_info"] = null },
            ["try_cast"] = false,
        };
    }

    static JsonObject Varchar(string text, JsonNode? location, string alias = "") => new()
    {
        ["class"] = "CONSTANT",
        ["type"] = "VALUE_CONSTANT",
        ["alias"] = alias,
        ["query_location"] = location,
        ["value"] = new JsonObject { ["type"] = new JsonObject { ["id"] = "VARCHAR", ["type_info"] = null }, ["is_null"] = false, ["value"] = text },
    };
}
