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
/// E-string, identifier or comment), the text is parsed by DuckDB into its syntax tree (<c>json_serialize_sql</c>),
/// and the sentinels are replaced <em>in the tree</em>: one standing alone as a value becomes a constant node of the
/// parameter's type, one inside a string constant has its text placed in that constant, one inside a name has its
/// text placed in that name (only identifier-safe values), and one DuckDB did not keep (in a comment) disappears.
/// DuckDB then renders the tree back to SQL (<c>json_deserialize_sql</c>), and the result is parsed once more and must
/// give exactly the tree that was rendered, or the expansion fails closed.
/// </summary>
public static partial class SqlExpansion
{
    /// <summary>Keys whose string values are names: a sentinel there becomes part of the name.</summary>
    static readonly HashSet<string> NameKeys = new(StringComparer.Ordinal) { "alias", "table_name", "column_names", "column_name_alias", "relation_name", "ctename" };

    [GeneratedRegex(@"^[\p{L}\p{N}_ \-]*$")]
    private static partial Regex IdentifierSafe();

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
        var names = new List<string>();
        var text = new StringBuilder(sql.Length + 16 * references.Count);
        var last = 0;
        foreach (var reference in references)
        {
            text.Append(Template.Unescape(sql[last..reference.Index]));
            text.Append(Sentinel(nonce, names.Count));
            names.Add(reference.Name);
            last = reference.Index + reference.Length;
        }
        text.Append(Template.Unescape(sql[last..]));
        var alias = $"mrp{nonce}e";
        var source = expression ? $"SELECT (\n{text}\n) AS {alias}" : text.ToString();

        var tree = Parse(connection, source, expression ? "the expression" : "the SQL");
        var sentinel = new Regex($"mrp{nonce}i(?<n>[0-9]+)z", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
        var placed = Place(tree, source, sentinel, i => Value(names[i], values), names);
        var rendered = Render(connection, placed);
        var check = Parse(connection, rendered, "the expanded SQL");
        if (!JsonNode.DeepEquals(WithoutLocations(check), WithoutLocations(placed.DeepClone())))
            throw new ParameterException("DuckDB cannot render this SQL back exactly once the parameter values are placed; simplify the query around the parameters or pass them in a string literal");
        if (!expression) return rendered;

        var prefix = "SELECT ";
        var suffix = $" AS {alias}";
        if (!rendered.StartsWith(prefix, StringComparison.Ordinal) || !rendered.EndsWith(suffix, StringComparison.Ordinal))
            throw new ParameterException("the expression must be a single SQL expression");
        return "(" + rendered[prefix.Length..^suffix.Length] + ")";
    }

    internal static string Sentinel(string nonce, int index) => $"mrp{nonce}i{index.ToString(CultureInfo.InvariantCulture)}z";

    static ParameterValue Value(string name, IReadOnlyDictionary<string, ParameterValue> values) => Template.Resolve(name, values);

    /// <summary>DuckDB's syntax tree of <paramref name="sql"/> as JSON; a located parse error as a <see cref="ParameterException"/>.</summary>
    static JsonObject Parse(DuckDBConnection connection, string sql, string what)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT json_serialize_sql($1::VARCHAR)";
        command.Parameters.Add(new DuckDBParameter(sql));
        var json = JsonNode.Parse((string)command.ExecuteScalar()!)!.AsObject();
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

    static string Render(DuckDBConnection connection, JsonObject tree)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT json_deserialize_sql($1::JSON)";
        command.Parameters.Add(new DuckDBParameter(tree.ToJsonString()));
        try { return (string)command.ExecuteScalar()!; }
        catch (DuckDBException e) { throw new ParameterException($"DuckDB cannot render the SQL with its parameter values: {e.Message.Split('\n')[0].Trim()}"); }
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
