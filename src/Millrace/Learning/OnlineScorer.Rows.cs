using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Learning;

public sealed partial class OnlineScorer
{
    /// <summary>
    /// Creates <paramref name="table"/>: <c>__row</c> (0 to rows - 1, in the order of the array), then one column per
    /// feature of the type the model was trained on, from the field of that name (JSON null or a missing field is NULL;
    /// fields that are not features are left out). A value that does not convert is a <see cref="RowsDoNotFitException"/>
    /// naming its row and feature.
    /// </summary>
    static void CreateInput(DuckDBConnection connection, ModelVersion model, string json, string table)
    {
        var types = model.Features.Select(f => TypeName(model, f)).ToList();
        var columns = model.Features.Select((f, i) => $"CAST({Field(f.Name)} AS {types[i]}) AS {SqlText.Identifier(f.Name)}");
        try
        {
            Execute(connection, $"CREATE TABLE {SqlText.Identifier(table)} AS SELECT {ModelScorer.RowColumn}, {string.Join(", ", columns)} FROM {Rows}", json);
        }
        catch (DuckDBException e)
        {
            throw new RowsDoNotFitException(Misfit(connection, model, types, json) ?? $"the rows do not fit model {model.Name}@v{model.Version}: {e.Message.Split('\n')[0]}", e);
        }
    }

    /// <summary>The posted array as one JSON value per row with its index (the query parameter <c>$rows</c> holds the array).</summary>
    static readonly string Rows = $"(SELECT unnest(r) AS j, generate_subscripts(r, 1) - 1 AS {ModelScorer.RowColumn} FROM (SELECT CAST(CAST($rows AS JSON) AS JSON[]) AS r))";

    /// <summary>A row's field as text, by a JSON Pointer (so any field name works: '~' and '/' are escaped, nothing else is special).</summary>
    static string Field(string name) => $"json_extract_string(j, {SqlText.Quote("/" + name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal))})";

    /// <summary>The first value that does not convert, as "row 2, feature 'x': "high" is not a DOUBLE"; null when none is found.</summary>
    static string? Misfit(DuckDBConnection connection, ModelVersion model, IReadOnlyList<string> types, string json)
    {
        for (var i = 0; i < model.Features.Count; i++)
        {
            var field = Field(model.Features[i].Name);
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {ModelScorer.RowColumn}, {field} FROM {Rows} WHERE {field} IS NOT NULL AND TRY_CAST({field} AS {types[i]}) IS NULL ORDER BY 1 LIMIT 1";
            command.Parameters.Add(new DuckDBParameter("rows", json));
            using var reader = command.ExecuteReader();
            if (!reader.Read()) continue;
            var value = reader.GetString(1);
            return $"the rows do not fit model {model.Name}@v{model.Version}: row {reader.GetInt64(0) + 1}, feature '{model.Features[i].Name}': " +
                $"{System.Text.Json.JsonSerializer.Serialize(value.Length > 100 ? value[..100] + "…" : value)} is not a {types[i]}";
        }
        return null;
    }

    /// <summary>
    /// A feature's type as SQL. It comes from the store (DuckDB's name for the training column's type); anything but
    /// a type name (letters, digits, spaces, brackets, commas) is refused rather than put into SQL.
    /// </summary>
    static string TypeName(ModelVersion model, FeatureColumn feature) => TypePattern().IsMatch(feature.Type) ? feature.Type
        : throw new InvalidOperationException($"model {model.Name}@v{model.Version}: feature '{feature.Name}' has the type '{feature.Type}', which is not a DuckDB type name");

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_ ]*(\([0-9, ]+\))?(\[\])*$")]
    private static partial Regex TypePattern();

    static void Execute(DuckDBConnection connection, string sql, string json)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.Add(new DuckDBParameter("rows", json));
        command.ExecuteNonQuery();
    }
}
