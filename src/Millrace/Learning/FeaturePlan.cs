using DuckDB.NET.Data;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Learning;

/// <summary>
/// Decides how each input column becomes model input, by its DuckDB type: numbers and booleans as numbers (missing
/// values imputed), dates and timestamps as their parts (day of week, day, month, and hour for timestamps), text as
/// categories — one-hot up to a cardinality threshold, hashed above it. The plan is saved with the model
/// (<see cref="FeatureColumn"/>), so scoring rebuilds exactly the same inputs.
/// </summary>
public static class FeaturePlan
{
    /// <summary>Roles a column can play.</summary>
    public const string Numeric = "numeric", Boolean = "boolean", Categorical = "categorical", Date = "date", Timestamp = "timestamp";

    /// <summary>Plans the features of <paramref name="relation"/>: every column but the label and the excluded ones, or only the included ones.</summary>
    public static IReadOnlyList<FeatureColumn> Plan(DuckDBConnection connection, string relation, string label,
        IReadOnlyList<string> include, IReadOnlyList<string> exclude, int categoricalThreshold)
    {
        var schema = DuckDb.Describe(connection, relation);
        foreach (var name in include.Concat(exclude).Append(label))
            if (!schema.Any(c => c.Name == name))
                throw new StepFailedException($"column '{name}' is not in the training data (columns: {string.Join(", ", schema.Select(c => c.Name))})");
        var columns = schema.Where(c => c.Name != label && (include.Count == 0 || include.Contains(c.Name)) && !exclude.Contains(c.Name)).ToList();
        if (columns.Count == 0) throw new StepFailedException("no feature columns are left after include/exclude");
        var features = new List<FeatureColumn>();
        foreach (var column in columns)
        {
            var role = RoleOf(column.Type)
                ?? throw new StepFailedException($"column '{column.Name}' has type {column.Type}, which cannot be a feature; exclude it or cast it in SQL");
            var encoding = "none";
            if (role == Categorical)
            {
                var distinct = DuckDb.Scalar<long>(connection, $"SELECT approx_count_distinct({SqlText.Identifier(column.Name)}) FROM {relation}");
                encoding = distinct <= categoricalThreshold ? "onehot" : "hash";
            }
            features.Add(new FeatureColumn(column.Name, column.Type, role, encoding));
        }
        return features;
    }

    /// <summary>The role of a DuckDB type, or null when it cannot be a feature (lists, structs, blobs).</summary>
    public static string? RoleOf(string duckDbType)
    {
        var type = duckDbType.ToUpperInvariant();
        if (type.EndsWith("[]", StringComparison.Ordinal) || type.StartsWith("STRUCT", StringComparison.Ordinal) || type.StartsWith("MAP", StringComparison.Ordinal) || type is "BLOB") return null;
        if (type == "BOOLEAN") return Boolean;
        if (type == "DATE") return Date;
        if (type.StartsWith("TIMESTAMP", StringComparison.Ordinal)) return Timestamp;
        if (type is "VARCHAR" or "UUID" || type.StartsWith("ENUM", StringComparison.Ordinal)) return Categorical;
        if (type is "TINYINT" or "SMALLINT" or "INTEGER" or "BIGINT" or "HUGEINT" or "UTINYINT" or "USMALLINT" or "UINTEGER" or "UBIGINT" or "FLOAT" or "DOUBLE"
            || type.StartsWith("DECIMAL", StringComparison.Ordinal)) return Numeric;
        return null;
    }

    /// <summary>The data view columns that feed a feature: one, or one per date part.</summary>
    public static IEnumerable<DataViewColumn> Columns(FeatureColumn feature)
    {
        var column = SqlText.Identifier(feature.Name);
        switch (feature.Role)
        {
            case Numeric:
                yield return new DataViewColumn(feature.Name, FeatureKind.Numeric, $"CAST({column} AS FLOAT)");
                break;
            case Boolean:
                yield return new DataViewColumn(feature.Name, FeatureKind.Numeric, $"CAST(CAST({column} AS INTEGER) AS FLOAT)");
                break;
            case Date or Timestamp:
                yield return new DataViewColumn(feature.Name + ".dayofweek", FeatureKind.Numeric, $"CAST(dayofweek({column}) AS FLOAT)");
                yield return new DataViewColumn(feature.Name + ".day", FeatureKind.Numeric, $"CAST(day({column}) AS FLOAT)");
                yield return new DataViewColumn(feature.Name + ".month", FeatureKind.Numeric, $"CAST(month({column}) AS FLOAT)");
                if (feature.Role == Timestamp) yield return new DataViewColumn(feature.Name + ".hour", FeatureKind.Numeric, $"CAST(hour({column}) AS FLOAT)");
                break;
            default:
                yield return new DataViewColumn(feature.Name, FeatureKind.Text, $"CAST({column} AS VARCHAR)");
                break;
        }
    }

    /// <summary>
    /// Checks that <paramref name="schema"/> (an input to score) has every feature with a compatible type; the error
    /// names each missing or mistyped column.
    /// </summary>
    public static void CheckInput(IReadOnlyList<FeatureColumn> features, IReadOnlyList<ColumnSchema> schema, string model)
    {
        var problems = new List<string>();
        foreach (var feature in features)
        {
            var column = schema.FirstOrDefault(c => c.Name == feature.Name);
            if (column is null) { problems.Add($"missing column '{feature.Name}' ({feature.Type})"); continue; }
            var role = RoleOf(column.Type);
            var compatible = role == feature.Role || (role is Numeric or Boolean && feature.Role is Numeric or Boolean) || (role is Date or Timestamp && feature.Role is Date);
            if (!compatible) problems.Add($"column '{feature.Name}' is {column.Type}, the model was trained on {feature.Type}");
        }
        if (problems.Count > 0)
            throw new StepFailedException($"the input does not fit model {model}: {string.Join("; ", problems)}");
    }
}
