using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Millrace.Parameters;

public static partial class SqlExpansion
{
    /// <summary>A copy of <paramref name="tree"/> with each sentinel replaced by its parameter's value, by where DuckDB parsed it.</summary>
    static JsonObject Place(JsonObject tree, string source, Regex sentinel, Func<int, ParameterValue> value, IReadOnlyList<string> names)
    {
        var copy = tree.DeepClone().AsObject();
        new Placer(source, sentinel, value, names).Visit(copy);
        return copy;
    }

    sealed class Placer(string source, Regex sentinel, Func<int, ParameterValue> value, IReadOnlyList<string> names)
    {
        public void Visit(JsonNode node)
        {
            if (node is JsonObject o)
            {
                foreach (var key in o.Select(p => p.Key).ToList())
                {
                    var child = o[key];
                    if (child is null) continue;
                    if (Replacement(child) is { } replacement) o[key] = replacement;
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
                    if (Replacement(child) is { } replacement) a[i] = replacement;
                    else if (child is JsonValue leaf && leaf.TryGetValue<string>(out var text)) a[i] = PlaceText(null, a.Parent is JsonObject ? a.GetPropertyName() : "", text);
                    else Visit(child);
                }
            }
        }

        /// <summary>A new node for <paramref name="node"/>: a value for a sentinel standing alone, a faithful form of a DOUBLE constant.</summary>
        JsonNode? Replacement(JsonNode node)
        {
            if (node is not JsonObject o) return null;
            if (Class(o) == "COLUMN_REF" && o["column_names"] is JsonArray { Count: 1 } parts
                && parts[0]?.GetValue<string>() is { } name && sentinel.Match(name) is { Success: true } m && m.Length == name.Length
                && !Quoted(o))
                return ValueNode(value(Index(m)), o["query_location"]?.DeepClone(), o["alias"]?.GetValue<string>() ?? "");
            // DuckDB renders a DOUBLE constant such as 1e3 as 1000.0, a DECIMAL: keep its type by rendering it as a cast.
            if (Class(o) == "CONSTANT" && o["value"] is JsonObject constant && constant["type"]?["id"]?.GetValue<string>() is "DOUBLE" or "FLOAT"
                && constant["is_null"]?.GetValue<bool>() == false && constant["value"] is JsonValue number)
                return Cast(Varchar(number.ToJsonString().Trim('"'), o["query_location"]?.DeepClone()), constant["type"]!["id"]!.GetValue<string>(),
                    o["query_location"]?.DeepClone(), o["alias"]?.GetValue<string>() ?? "");
            return null;
        }

        // A name standing alone parses the same quoted or not: the source text at its position tells them apart.
        bool Quoted(JsonObject o) => o["query_location"] is JsonValue v && v.TryGetValue<long>(out var at) && at >= 0 && at < source.Length && source[(int)at] == '"';

        JsonNode PlaceText(JsonObject? owner, string key, string text)
        {
            if (!sentinel.IsMatch(text)) return JsonValue.Create(text);
            var inString = key == "value" && owner is not null && owner.ContainsKey("is_null") && owner["type"]?["id"]?.GetValue<string>() == "VARCHAR";
            var inName = NameKeys.Contains(key);
            return JsonValue.Create(sentinel.Replace(text, m =>
            {
                var index = Index(m);
                var parameter = value(index);
                if (inString) return parameter.Text;
                if (!inName)
                    throw new ParameterException($"parameter '{names[index]}' stands where DuckDB reads SQL syntax ({key}), not a value: a parameter may stand for a value, inside a string literal, or inside a name");
                if (!IdentifierSafe().IsMatch(parameter.Text))
                    throw new ParameterException($"parameter '{names[index]}' is used inside a name, where its value may hold only letters, digits, '_', '-' and spaces, got '{Shorten(parameter.Text)}'");
                return parameter.Text;
            }));
        }

        static int Index(Match m) => int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
    }

    static string? Class(JsonObject o) => o["class"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    /// <summary>The syntax node of a parameter's value: a VARCHAR constant, or a cast of its canonical text to its type.</summary>
    static JsonObject ValueNode(ParameterValue parameter, JsonNode? location, string alias) => parameter.Value switch
    {
        long l => Cast(Varchar(l.ToString(CultureInfo.InvariantCulture), location), "BIGINT", location?.DeepClone(), alias),
        double d => Cast(Varchar(d.ToString("R", CultureInfo.InvariantCulture), location), "DOUBLE", location?.DeepClone(), alias),
        bool b => Cast(Varchar(b ? "true" : "false", location), "BOOLEAN", location?.DeepClone(), alias),
        DateOnly date => Cast(Varchar(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), location), "DATE", location?.DeepClone(), alias),
        DateTime time => Cast(Varchar(time.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture), location), "TIMESTAMP", location?.DeepClone(), alias),
        _ => Varchar(parameter.Text, location, alias),
    };

    static JsonObject Varchar(string text, JsonNode? location, string alias = "") => new()
    {
        ["class"] = "CONSTANT",
        ["type"] = "VALUE_CONSTANT",
        ["alias"] = alias,
        ["query_location"] = location,
        ["value"] = new JsonObject { ["type"] = new JsonObject { ["id"] = "VARCHAR", ["type_info"] = null }, ["is_null"] = false, ["value"] = text },
    };

    static JsonObject Cast(JsonObject child, string type, JsonNode? location, string alias) => new()
    {
        ["class"] = "CAST",
        ["type"] = "OPERATOR_CAST",
        ["alias"] = alias,
        ["query_location"] = location,
        ["child"] = child,
        ["cast_type"] = new JsonObject { ["id"] = type, ["type_info"] = null },
        ["try_cast"] = false,
    };
}
