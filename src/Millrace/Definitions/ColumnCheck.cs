using DuckDB.NET.Data;
using Millrace.Datasets;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Parameters;
using Millrace.Steps;
using Millrace.Storage;
using YamlDotNet.RepresentationModel;

namespace Millrace.Definitions;

/// <summary>
/// At validate time, works out each step's output columns where they can be known before anything runs (ML.NET's
/// <c>GetOutputSchema</c>): a <c>read</c> of CSV or JSON with a full <c>schema:</c>, then downstream <c>sql</c> steps
/// (the query is bound by DuckDB over empty tables of the inputs' columns) and <c>check</c> steps (their input's
/// columns). Where an input's columns are known, a query that names a missing column, a rule, key, label or feature
/// that is not a column is a located definition error. Where they are not known (a dataset, files never seen, a
/// Parquet read), nothing is said. The in-memory DuckDB connection is the <see cref="SqlReferenceCheck"/>'s. At most
/// <see cref="MaxQueries"/> queries per workflow are bound, so validating a generated workflow of thousands of steps
/// stays fast; the steps past that are checked when they run.
/// </summary>
sealed class ColumnCheck(DuckDBConnection connection)
{
    /// <summary>How many sql steps of one workflow are bound at validate time.</summary>
    public const int MaxQueries = 200;

    int _bound;

    /// <summary>Checks the steps of <paramref name="workflow"/> (parsed as <paramref name="steps"/>, by id) against their inputs' known columns.</summary>
    public void Check(WorkflowDefinition workflow, IReadOnlyDictionary<string, IStep> steps, IReadOnlyDictionary<string, ParameterType> parameters, List<DefinitionError> errors)
    {
        _bound = 0;
        var definitions = workflow.Steps.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var known = new Dictionary<string, IReadOnlyList<ColumnSchema>?>(StringComparer.Ordinal);

        IReadOnlyList<ColumnSchema>? Columns(string id)
        {
            if (known.TryGetValue(id, out var columns)) return columns;
            known[id] = null; // a cycle (reported elsewhere) ends here
            if (!definitions.TryGetValue(id, out var definition) || !steps.TryGetValue(id, out var step)) return null;
            var inputs = definition.Inputs.Select(i => (Name: i, Columns: definitions.ContainsKey(i) ? Columns(i) : null)).ToList();
            var reader = new YamlNodeReader(definition.Location.File, errors, definition.Id);
            return known[id] = Output(definition, step, inputs, parameters, reader);
        }

        foreach (var step in workflow.Steps) Columns(step.Id);
    }

    IReadOnlyList<ColumnSchema>? Output(StepDefinition definition, IStep step, List<(string Name, IReadOnlyList<ColumnSchema>? Columns)> inputs,
        IReadOnlyDictionary<string, ParameterType> parameters, YamlNodeReader reader)
    {
        var single = inputs.Count == 1 ? inputs[0].Columns : null;
        var at = (string option) => YamlNodeReader.Find(definition.Options, option) ?? definition.Options;
        switch (step)
        {
            case ReadStep read:
                return ReadColumns(read);
            case SqlStep sql when inputs.All(i => i.Columns is not null) && _bound++ < MaxQueries:
                return Bind(sql.Sql, inputs, parameters, reader, at("sql"));
            case CheckStep check when single is not null:
                foreach (var rule in check.Rules.Where(r => r.Column is not null))
                    foreach (var column in rule.Kind == "unique" ? rule.Column!.Split(", ") : [rule.Column!])
                        Require(single, column, $"rule {rule.Name}", inputs[0].Name, reader, at("expect"));
                return single;
            case MergeStep merge when single is not null:
                foreach (var column in merge.Key) Require(single, column, "key", inputs[0].Name, reader, at("key"));
                if (merge.OrderBy is { } orderBy) Require(single, orderBy, "order_by", inputs[0].Name, reader, at("order_by"));
                if (merge.DeleteColumn is { } delete) Require(single, delete, "delete_column", inputs[0].Name, reader, at("delete_column"));
                foreach (var column in merge.PartitionBy) Require(single, column, "partition_by", inputs[0].Name, reader, at("partition_by"));
                return null;
            case WriteStep write when single is not null:
                foreach (var column in write.PartitionBy) Require(single, column, "partition_by", inputs[0].Name, reader, at("partition_by"));
                return null;
            case TrainStep train when single is not null:
                Require(single, train.Label, "label", inputs[0].Name, reader, at("label"));
                foreach (var column in train.Include.Concat(train.Exclude)) Require(single, column, "feature", inputs[0].Name, reader, at("features"));
                return null;
            default:
                return null;
        }
    }

    static void Require(IReadOnlyList<ColumnSchema> columns, string column, string what, string input, YamlNodeReader reader, YamlNode node)
    {
        if (column.Contains('$', StringComparison.Ordinal) || columns.Any(c => c.Name == column)) return;
        reader.Error(node, $"{what}: column '{column}' is not in input '{input}' (its columns: {string.Join(", ", columns.Select(c => c.Name))}){ProjectValidator.Suggest(column, columns.Select(c => c.Name))}");
    }

    /// <summary>The columns of a read with a full schema: CSV or JSON (Parquet files may hold more), partition keys typed by it.</summary>
    static IReadOnlyList<ColumnSchema>? ReadColumns(ReadStep read)
    {
        if (read.Schema is not { Count: > 0 } schema || read.Path.Contains('$', StringComparison.Ordinal)) return null;
        var format = read.Format ?? FormatOf(read.Path);
        if (format is not ("csv" or "json")) return null;
        var columns = schema.Select(c => new ColumnSchema(c.Column, c.Type)).ToList();
        var keys = read.Path.Split('/').Where(s => s.IndexOf('=', StringComparison.Ordinal) > 0).Select(s => s[..s.IndexOf('=', StringComparison.Ordinal)]);
        if ((read.HivePartitioning ?? read.Path.Contains('=', StringComparison.Ordinal)) && keys.Any(k => columns.All(c => c.Name != k))) return null;
        if (read.Filename) columns.Add(new ColumnSchema("filename", "VARCHAR"));
        return columns;
    }

    static string? FormatOf(string path)
    {
        var name = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        var extension = System.IO.Path.GetExtension(name).ToLowerInvariant();
        return extension switch { ".csv" or ".tsv" or ".txt" => "csv", ".json" or ".jsonl" or ".ndjson" => "json", ".parquet" or ".pq" => "parquet", _ => null };
    }

    /// <summary>Binds <paramref name="sql"/> over empty tables of the inputs' columns; a binder error is the step's error.</summary>
    IReadOnlyList<ColumnSchema>? Bind(string sql, List<(string Name, IReadOnlyList<ColumnSchema>? Columns)> inputs,
        IReadOnlyDictionary<string, ParameterType> parameters, YamlNodeReader reader, YamlNode node)
    {
        try
        {
            var references = Template.FindReferences(sql, parameters.ContainsKey);
            if (references.Any(r => !parameters.ContainsKey(r.Name))) return null;
            var expanded = references.Count == 0 ? sql : SqlExpansion.ExpandStatement(connection, sql,
                references.Select(r => r.Name).Distinct(StringComparer.Ordinal).ToDictionary(n => n, n => SqlReferenceCheck.Sample(parameters[n]), StringComparer.Ordinal));
            foreach (var (name, columns) in inputs)
            {
                var table = SqlText.Identifier(DatasetReference.Parse(name).Name);
                DuckDb.Execute(connection, $"CREATE OR REPLACE TEMP TABLE {table} ({string.Join(", ", columns!.Select(c => $"{SqlText.Identifier(c.Name)} {c.Type}"))})");
            }
            // A view is bound, never run: a query over a huge range() or a file costs nothing here.
            DuckDb.Execute(connection, $"CREATE OR REPLACE TEMP VIEW __millrace_output AS {expanded.Trim().TrimEnd(';')}");
            return DuckDb.Describe(connection, "__millrace_output");
        }
        catch (DuckDBException e) when (e.Message.StartsWith("Binder Error", StringComparison.Ordinal))
        {
            var known = inputs.Count == 0 ? "no inputs" : string.Join("; ", inputs.Select(i => $"{i.Name}: {string.Join(", ", i.Columns!.Select(c => c.Name))}"));
            reader.Error(node, $"the query does not fit its inputs' columns ({known}): {e.Message.Split('\n')[0].Trim()}");
            return null;
        }
        catch (Exception e) when (e is DuckDBException or ParameterException)
        {
            return null; // not a column problem (a file read by the query, an extension): the run will tell
        }
        finally
        {
            DuckDb.Execute(connection, "DROP VIEW IF EXISTS __millrace_output");
            foreach (var (name, _) in inputs) DuckDb.Execute(connection, $"DROP TABLE IF EXISTS {SqlText.Identifier(DatasetReference.Parse(name).Name)}");
        }
    }
}
