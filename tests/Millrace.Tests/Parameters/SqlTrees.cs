using System.Text.Json.Nodes;
using DuckDB.NET.Data;

namespace Millrace.Tests.Parameters;

/// <summary>DuckDB's parsed form of SQL, for comparing statements rather than their spelling.</summary>
static class SqlTrees
{
    public static DuckDBConnection Open()
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        return connection;
    }

    /// <summary>The statement's syntax tree as JSON, without source positions; string leaves mapped by <paramref name="map"/>.</summary>
    public static string Shape(DuckDBConnection connection, string sql, Func<string, string>? map = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT json_serialize_sql($1::VARCHAR)";
        command.Parameters.Add(new DuckDBParameter(sql));
        var tree = JsonNode.Parse((string)command.ExecuteScalar()!)!;
        Assert.False(tree["error"]!.GetValue<bool>(), $"{sql}\n{tree["error_message"]}");
        return Normalise(tree, map ?? (s => s))!.ToJsonString();
    }

    static JsonNode? Normalise(JsonNode? node, Func<string, string> map)
    {
        switch (node)
        {
            case JsonObject o:
                o.Remove("query_location");
                foreach (var key in o.Select(p => p.Key).ToList())
                    if (Leaf(o[key], map) is { } leaf) o[key] = leaf; else Normalise(o[key], map);
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                    if (Leaf(a[i], map) is { } leaf) a[i] = leaf; else Normalise(a[i], map);
                break;
        }
        return node;
    }

    static JsonNode? Leaf(JsonNode? node, Func<string, string> map) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) ? JsonValue.Create(map(s)) : null;
}
