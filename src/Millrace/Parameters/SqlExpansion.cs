using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DuckDB.NET.Data;

namespace Millrace.Parameters;

/// <summary>
/// Places parameter values into SQL without ever letting a value be read as SQL. DuckDB's own parser, not a lexer of
/// ours, decides where each reference stands: every reference is first replaced by a sentinel word (letters and
/// digits only, so it cannot change how the text is tokenized in any context: code, string, dollar-quoted string,
/// E-string, identifier or comment) and DuckDB parses the text into its syntax tree (<c>json_serialize_sql</c>). A
/// sentinel standing alone as a value is replaced by a literal of the parameter's type; one inside a string constant
/// by the value's text escaped for that kind of string ('…', E'…' or $tag$…$tag$, told by the constant's position);
/// one inside a name by the value's text, which must be a plain word; one DuckDB did not keep (in a comment) by
/// nothing. The expected tree is built alongside, with the values in place of the sentinels, and the final SQL is
/// parsed once more: it must give exactly that tree, or the expansion fails closed. The author's SQL otherwise runs
/// as written.
/// </summary>
public static partial class SqlExpansion
{
    /// <summary>Keys whose string values are names: a sentinel there becomes part of the name.</summary>
    static readonly HashSet<string> NameKeys = new(StringComparer.Ordinal) { "alias", "table_name", "column_names", "column_name_alias", "relation_name", "ctename" };

    [GeneratedRegex(@"^[\p{L}\p{N}_]+$")]
    private static partial Regex PlainWord();

    /// <summary>Expands the references in a whole statement (a query).</summary>
    public static string ExpandStatement(DuckDBConnection connection, string sql, IReadOnlyDictionary<string, ParameterValue> values) =>
        Expand(connection, sql, values, expression: false);

    /// <summary>Expands the references in an expression (a check rule, a drift filter); the result is parenthesised.</summary>
    public static string ExpandExpression(DuckDBConnection connection, string expression, IReadOnlyDictionary<string, ParameterValue> values) =>
        Expand(connection, expression, values, expression: true);

    static string Expand(DuckDBConnection connection, string sql, IReadOnlyDictionary<string, ParameterValue> values, bool expression)
    {
        var references = Template.FindReferences(sql, values.ContainsKey);
        if (references.Count == 0) return Template.Unescape(sql);

        string nonce;
        do nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(5)).ToLowerInvariant();
        while (sql.Contains(nonce, StringComparison.OrdinalIgnoreCase));
        var alias = $"mrp{nonce}e";
        var prefix = expression ? "SELECT (\n" : "";
        var names = new List<string>();
        var offsets = new List<int>();
        var text = new StringBuilder(prefix, sql.Length + 16 * references.Count + 64);
        var last = 0;
        foreach (var reference in references)
        {
            text.Append(Template.Unescape(sql[last..reference.Index]));
            offsets.Add(text.Length);
            text.Append(Sentinel(nonce, names.Count));
            names.Add(reference.Name);
            last = reference.Index + reference.Length;
        }
        text.Append(Template.Unescape(sql[last..]));
        var suffix = expression ? $"\n) AS {alias}" : "";
        var source = text.Append(suffix).ToString();

        var tree = Parse(connection, source, expression ? "the expression" : "the SQL");
        var sentinel = new Regex($"mrp{nonce}i(?<n>[0-9]+)z", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
        var (expected, placements) = Place(tree, source, sentinel, i => Template.Resolve(names[i], values), names);

        var result = new StringBuilder(source.Length + 64);
        last = 0;
        for (var i = 0; i < offsets.Count; i++)
        {
            result.Append(source, last, offsets[i] - last);
            result.Append(placements.TryGetValue(i, out var placed) ? placed : "");
            last = offsets[i] + Sentinel(nonce, i).Length;
        }
        result.Append(source, last, source.Length - last);
        var rendered = result.ToString();

        var check = Parse(connection, rendered, "the expanded SQL");
        if (!JsonNode.DeepEquals(WithoutLocations(check), WithoutLocations(expected)))
            throw new ParameterException("a parameter value would change the statement it is placed in");
        return expression ? rendered[(prefix.Length - 2)..^(suffix.Length - 2)] : rendered;
    }

    internal static string Sentinel(string nonce, int index) => $"mrp{nonce}i{index.ToString(CultureInfo.InvariantCulture)}z";

    /// <summary>DuckDB's syntax tree of <paramref name="sql"/> as JSON; a located parse error as a <see cref="ParameterException"/>.</summary>
    static JsonObject Parse(DuckDBConnection connection, string sql, string what)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT json_serialize_sql($1::VARCHAR)";
        command.Parameters.Add(new DuckDBParameter(sql));
        JsonObject json;
        try { json = JsonNode.Parse((string)command.ExecuteScalar()!)!.AsObject(); }
        catch (System.Text.Json.JsonException e)
        {
            // DuckDB writes an infinite constant (1e999) as a bare Infinity, which is not JSON.
            throw new ParameterException($"DuckDB's syntax tree of {what} cannot be read ({e.Message.Split('.')[0]}); write constants such as 1e999 as 'Infinity'::DOUBLE");
        }
        if (json["error"]?.GetValue<bool>() == true)
        {
            var type = json["error_type"]?.GetValue<string>();
            var message = json["error_message"]?.GetValue<string>() ?? "unknown error";
            throw new ParameterException(type == "not implemented"
                ? $"SQL that uses parameters must be a single query (SELECT, FROM …, WITH …, VALUES): DuckDB decides where each parameter stands and can only do so in a query ({message})"
                : $"{what} does not parse: {message.Split('\n')[0].Trim()}");
        }
        if (json["statements"] is not JsonArray { Count: 1 })
            throw new ParameterException("SQL that uses parameters must be exactly one statement");
        return json;
    }

    static JsonNode WithoutLocations(JsonNode node)
    {
        switch (node)
        {
            case JsonObject o:
                o.Remove("query_location");
                foreach (var (_, child) in o) if (child is not null) WithoutLocations(child);
                break;
            case JsonArray a:
                foreach (var child in a) if (child is not null) WithoutLocations(child);
                break;
        }
        return node;
    }
}
