using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Lake;
using Millrace.Parameters;
using YamlDotNet.RepresentationModel;

namespace Millrace.Steps;

/// <summary>
/// <c>read</c>: loads CSV, Parquet or JSON files from the lake (a glob; hive partitions such as <c>dt=…</c> become
/// columns) into the step's table. The files are listed first, so the run records exactly which files it took,
/// and an empty or malformed file is reported by name (and line, for CSV).
/// </summary>
public sealed partial class ReadStep : IStep
{
    public required string Path { get; init; }
    public string? Format { get; init; }
    public IReadOnlyList<(string Column, string Type)>? Schema { get; init; }
    public bool Header { get; init; } = true;
    public string? Delimiter { get; init; }
    public bool? HivePartitioning { get; init; }
    public bool AllowEmpty { get; init; }
    public bool Filename { get; init; }

    public static StepKind Kind { get; } = new(
        "read",
        "Read CSV, Parquet or JSON files from the lake (globs, hive partitions) into a table.",
        [
            new("path", "lake path or glob", true, "Files to read, relative to the lake root, e.g. raw/events/dt=${run.date}/*.csv. Parameters allowed."),
            new("format", "csv | parquet | json", false, "File format; by default taken from the file extension."),
            new("schema", "mapping column: type", false, "Explicit column types (DuckDB types, e.g. BIGINT, VARCHAR, DATE); otherwise inferred."),
            new("header", "bool", false, "CSV: first line holds column names (default true)."),
            new("delimiter", "string", false, "CSV: field separator (default: detected)."),
            new("hive_partitioning", "bool", false, "Turn key=value folders into columns (default: true when the path has key= folders)."),
            new("allow_empty", "bool", false, "No matching files or empty files give zero rows instead of an error (needs schema when nothing matches)."),
            new("filename", "bool", false, "Add a 'filename' column with the lake path of each row's file."),
        ],
        ProducesOutput: true,
        Parse);

    static IStep? Parse(StepDefinition definition, YamlNodeReader reader)
    {
        var map = definition.Options;
        reader.RejectUnknownKeys(map, Kind.Fields, "a read step");
        if (definition.Inputs.Count > 0) reader.Error(map, "a read step takes no inputs; it reads files named by 'path'");
        var path = reader.String(map, "path", required: true);
        var format = reader.String(map, "format")?.ToLowerInvariant();
        if (format is not null and not ("csv" or "parquet" or "json"))
            reader.Error(YamlNodeReader.Find(map, "format")!, $"format must be csv, parquet or json, got '{format}'");
        List<(string, string)>? schema = null;
        if (reader.Mapping(map, "schema") is { } schemaMap)
        {
            schema = [];
            foreach (var (key, value) in schemaMap.Children)
            {
                if (value is YamlScalarNode { Value: { Length: > 0 } type } && IsTypeName().IsMatch(type))
                    schema.Add((((YamlScalarNode)key).Value!, type));
                else reader.Error(value, $"schema type for column '{key}' must be a DuckDB type name such as BIGINT, DOUBLE, VARCHAR, DATE, TIMESTAMP");
            }
        }
        var allowEmpty = reader.Bool(map, "allow_empty") ?? false;
        if (path is null) return null;
        return new ReadStep
        {
            Path = path,
            Format = format,
            Schema = schema,
            Header = reader.Bool(map, "header") ?? true,
            Delimiter = reader.String(map, "delimiter"),
            HivePartitioning = reader.Bool(map, "hive_partitioning"),
            AllowEmpty = allowEmpty,
            Filename = reader.Bool(map, "filename") ?? false,
        };
    }

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?(\[\])?$")]
    private static partial Regex IsTypeName();

    public async ValueTask<StepResult> ExecuteAsync(StepContext context, CancellationToken ct)
    {
        var pattern = context.Expand(Path);
        var files = LakeGlob.Match(context.Lake, pattern).ToList();
        var empty = files.Where(f => f.Size == 0).ToList();
        if (empty.Count > 0)
        {
            if (!AllowEmpty)
                throw new StepFailedException($"file {empty[0].Path} is empty (0 bytes){(empty.Count > 1 ? $", and {empty.Count - 1} more" : "")}; set allow_empty: true to skip empty files");
            await context.LogAsync($"skipped {empty.Count} empty file(s): {string.Join(", ", empty.Select(f => f.Path))}", ct, "warn");
            files.RemoveAll(f => f.Size == 0);
        }
        if (files.Count == 0)
        {
            if (!AllowEmpty) throw new StepFailedException($"no files match '{pattern}' under the lake root {context.Lake.Root}; set allow_empty: true if that can happen");
            if (Schema is null) throw new StepFailedException($"no files match '{pattern}' and there is no 'schema' to make an empty table from");
            await DuckDb.ExecuteAsync(context.Connection, $"CREATE TABLE {context.OutputTable} ({string.Join(", ", Schema.Select(c => $"{SqlText.Identifier(c.Column)} {c.Type}"))})", ct);
            return new StepResult(0, new Dictionary<string, object?> { ["files"] = Array.Empty<string>() });
        }

        var format = Format ?? FormatOf(files[0].Path);
        var absolute = files.Select(f => context.Lake.Resolve(f.Path)).ToList();
        var source = Source(format, absolute, pattern);
        try
        {
            await DuckDb.ExecuteAsync(context.Connection, $"CREATE TABLE {context.OutputTable} AS {source}", ct);
        }
        catch (DuckDBException e)
        {
            throw new StepFailedException(DescribeReadError(e.Message, context.Lake, format, absolute), e);
        }
        if (Filename)
            await DuckDb.ExecuteAsync(context.Connection, $"UPDATE {context.OutputTable} SET filename = substr(filename, {context.Lake.Root.Length + 2})", ct);
        var rows = await DuckDb.CountAsync(context.Connection, context.OutputTable, ct);
        return new StepResult(rows, new Dictionary<string, object?>
        {
            ["files"] = files.Select(f => f.Path).ToList(),
            ["bytes"] = files.Sum(f => f.Size),
        });
    }

    static string FormatOf(string path)
    {
        var extension = System.IO.Path.GetExtension(path).ToLowerInvariant();
        if (extension == ".gz") extension = System.IO.Path.GetExtension(path[..^3]).ToLowerInvariant();
        return extension switch
        {
            ".parquet" or ".pq" => "parquet",
            ".json" or ".jsonl" or ".ndjson" => "json",
            ".csv" or ".tsv" or ".txt" => "csv",
            _ => throw new StepFailedException($"cannot tell the format of '{path}' from its extension; set format: csv, parquet or json"),
        };
    }

    string Source(string format, IReadOnlyList<string> files, string pattern)
    {
        var list = DuckDb.FileList(files);
        var hive = HivePartitioning ?? pattern.Contains('=', StringComparison.Ordinal);
        var common = $"hive_partitioning = {(hive ? "true" : "false")}, union_by_name = true, filename = {(Filename ? "true" : "false")}";
        var columns = Schema is null ? null : "{" + string.Join(", ", Schema.Select(c => $"{SqlText.Quote(c.Column)}: {SqlText.Quote(c.Type)}")) + "}";
        switch (format)
        {
            case "csv":
                var options = $"header = {(Header ? "true" : "false")}, strict_mode = true, ignore_errors = false";
                if (Delimiter is not null) options += $", delim = {SqlText.Quote(Delimiter)}";
                if (columns is not null) options += $", columns = {columns}, auto_detect = false";
                return $"SELECT * FROM read_csv({list}, {options}, {common})";
            case "json":
                return $"SELECT * FROM read_json({list}, format = 'auto'{(columns is null ? "" : $", columns = {columns}")}, {common})";
            default:
                var select = Schema is null ? "*" : "* REPLACE (" + string.Join(", ", Schema.Select(c => $"CAST({SqlText.Identifier(c.Column)} AS {c.Type}) AS {SqlText.Identifier(c.Column)}")) + ")";
                return $"SELECT {select} FROM read_parquet({list}, {common})";
        }
    }

    [GeneratedRegex(@"[Ll]ine:?\s*(\d+)")]
    private static partial Regex LinePattern();

    [GeneratedRegex("column \"?([^\"\\s.]+)\"?")]
    private static partial Regex ColumnPattern();

    /// <summary>Rewrites a DuckDB read error to name the lake file, the line and the column where it can.</summary>
    internal static string DescribeReadError(string message, LakeRoot lake, string format, IReadOnlyList<string> files)
    {
        var file = files.FirstOrDefault(f => message.Contains(f, StringComparison.Ordinal)) ?? (files.Count == 1 ? files[0] : null);
        var where = file is null ? "" : lake.ToRelative(file);
        if (format == "csv" && LinePattern().Match(message) is { Success: true } line)
        {
            where += $" line {line.Groups[1].Value}";
            if (ColumnPattern().Match(message) is { Success: true } column) where += $", column '{column.Groups[1].Value}'";
        }
        var firstLine = message.Split('\n')[0].Trim();
        var detail = string.Join(" ", message.Split('\n').Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("Possible Solution", StringComparison.Ordinal)).Take(3));
        return (where.Length > 0 ? $"{where}: " : "") + firstLine + (detail.Length > 0 ? $" ({detail})" : "");
    }
}
