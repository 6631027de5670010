using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using Millrace.Definitions;
using Millrace.Definitions.Options;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Lake;
using Millrace.Parameters;
using Millrace.Storage;
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
    public bool Incremental { get; init; }
    public bool QuarantineErrors { get; init; }
    public string OnRewrite { get; init; } = "reprocess";
    public string? Since { get; init; }
    public string? Until { get; init; }
    public string? PartitionKey { get; init; }


    public static StepKind Kind { get; } = StepKind.Create<ReadOptions>(
        "read",
        "Read CSV, Parquet or JSON files from the lake (globs, hive partitions) into a table.",
        Parse);

    static IStep? Parse(StepDefinition definition, YamlNodeReader reader, ReadOptions options)
    {
        var map = definition.Options;
        if (definition.Inputs.Count > 0) reader.Error(map, "a read step takes no inputs; it reads files named by 'path'");
        var path = YamlNodeReader.Find(map, "path") is YamlScalarNode ? options.Path : null;
        List<(string, string)>? schema = null;
        switch (options.Schema)
        {
            case null: break;
            case YamlMappingNode schemaMap:
                schema = [];
                foreach (var (key, value) in schemaMap.Children)
                {
                    if (key is not YamlScalarNode { Value: { Length: > 0 } columnName })
                        reader.Error(key, "schema column names must be single values such as event_id");
                    else if (value is YamlScalarNode { Value: { Length: > 0 } type } && IsTypeName().IsMatch(type))
                        schema.Add((columnName, type));
                    else reader.Error(value, $"schema type for column '{key}' must be a DuckDB type name such as BIGINT, DOUBLE, VARCHAR, DATE, TIMESTAMP");
                }
                break;
            case var other: reader.Error(other, "field 'schema' must be a mapping (key: value pairs)"); break;
        }
        if (path is not null && !path.Contains('$', StringComparison.Ordinal))
        {
            try { LakeRoot.CheckRelative(path); }
            catch (LakePathException e) { reader.Error(YamlNodeReader.Find(map, "path")!, e.Message); }
        }
        if (path is not null && (options.Since is not null || options.Until is not null) && options.PartitionKey is null && DefaultPartitionKey(path) is null)
            reader.Error(map, "since/until need a key=value folder in the path (e.g. dt=*) or a partition_key");
        if (path is null) return null;
        return new ReadStep
        {
            Path = path,
            Format = options.Format is { } format ? OptionsShape.ChoiceName(format) : null,
            Schema = schema,
            Header = options.Header,
            Delimiter = options.Delimiter,
            HivePartitioning = options.HivePartitioning,
            AllowEmpty = options.AllowEmpty,
            Filename = options.Filename,
            Incremental = options.Incremental,
            OnRewrite = OptionsShape.ChoiceName(options.OnRewrite),
            Since = options.Since,
            Until = options.Until,
            PartitionKey = options.PartitionKey,
            QuarantineErrors = options.OnError == ReadErrorPolicy.Quarantine,
        };
    }

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?(\[\])?$")]
    private static partial Regex IsTypeName();

    public async ValueTask<StepResult> ExecuteAsync(StepContext context, CancellationToken ct)
    {
        var pattern = PathTemplate.ExpandGlob(Path, context.Parameters);
        var files = (await LakeGlob.MatchAsync(context.Lake, pattern, ct)).ToList();
        var details = new Dictionary<string, object?>();
        if (Since is not null || Until is not null)
        {
            var key = PartitionKey ?? DefaultPartitionKey(Path)!;
            var since = Since is null ? null : context.Expand(Since);
            var until = Until is null ? null : context.Expand(Until);
            files = files.Where(f => PartitionValue(f.Path, key) is { } value
                && (since is null || string.CompareOrdinal(value, since) >= 0)
                && (until is null || string.CompareOrdinal(value, until) <= 0)).ToList();
            details["bounds"] = $"{key} in [{since ?? "…"}, {until ?? "…"}]";
        }
        List<LakeFile>? committedBefore = null;
        if (Incremental)
        {
            var watermark = await context.Store.GetWatermarkAsync(context.Workflow, context.Step.Id, ct);
            committedBefore = files.Where(f => watermark.ContainsKey(f.Path)).ToList();
            var rewritten = files.Where(f => watermark.TryGetValue(f.Path, out var w) && Changed(w, f)).ToList();
            var fresh = files.Where(f => !watermark.ContainsKey(f.Path)).ToList();
            foreach (var file in rewritten)
            {
                var before = watermark[file.Path];
                await context.ReportAnomalyAsync("rewritten_file", OnRewrite == "fail" ? AnomalySeverity.Error : AnomalySeverity.Warning, OnRewrite,
                    $"{file.Path} changed after run {before.RunId} committed it ({Identity(before.Size, before.Modified, before.ETag)} -> {Identity(file.Size, file.Modified, file.ETag)})",
                    new { file = file.Path, committed_size = before.Size, size = file.Size, committed_modified = before.Modified, modified = file.Modified, committed_etag = before.ETag, etag = file.ETag, committed_by = before.RunId }, ct);
            }
            if (rewritten.Count > 0 && OnRewrite == "fail")
                throw new StepFailedException($"{rewritten.Count} committed file(s) were rewritten in place, e.g. {rewritten[0].Path}; on_rewrite: fail stops here (set reprocess or ignore)");
            // Ignored rewrites are accounted for (the watermark takes their new identity) but not read.
            files = OnRewrite == "reprocess" ? [.. fresh, .. rewritten] : fresh;
            files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
            context.Commit.AddWatermarks(files.Concat(OnRewrite == "ignore" ? rewritten : [])
                .Select(f => new WatermarkFile(context.Workflow, context.Step.Id, f.Path, f.Size, f.Modified, context.RunId, f.ETag)));
            details["files_committed_before"] = watermark.Count;
            details["rewritten"] = rewritten.Select(f => f.Path).ToList();
        }
        var empty = files.Where(f => f.Size == 0).ToList();
        if (empty.Count > 0)
        {
            if (!AllowEmpty)
                throw new StepFailedException($"file {empty[0].Path} is empty (0 bytes){(empty.Count > 1 ? $", and {empty.Count - 1} more" : "")}; set allow_empty: true to skip empty files");
            await context.LogAsync($"skipped {empty.Count} empty file(s): {string.Join(", ", empty.Select(f => f.Path))}", ct, "warn");
            files.RemoveAll(f => f.Size == 0);
        }
        if (files.Count == 0 && Incremental && committedBefore is { Count: > 0 })
        {
            // Nothing new: an empty table shaped like the files taken before.
            await context.Lake.Storage.FetchAsync([committedBefore[^1]], ct);
            var shape = context.Lake.Resolve(committedBefore[^1].Path);
            await DuckDb.ExecuteAsync(context.Connection, $"CREATE TABLE {context.OutputTable} AS {Source(Format ?? FormatOf(shape), [shape], pattern)} LIMIT 0", ct);
            await FinishSourceColumnAsync(context, ct);
            details["files"] = Array.Empty<string>();
            return new StepResult(0, details);
        }
        if (files.Count == 0 && Incremental && Schema is not null)
        {
            await DuckDb.ExecuteAsync(context.Connection, EmptyTable(context.OutputTable, pattern), ct);
            details["files"] = Array.Empty<string>();
            return new StepResult(0, details);
        }
        if (files.Count == 0)
        {
            if (!AllowEmpty) throw new StepFailedException($"no files match '{pattern}' under the lake root {context.Lake.Storage.Location}; set allow_empty: true if that can happen");
            if (Schema is null) throw new StepFailedException($"no files match '{pattern}' and there is no 'schema' to make an empty table from");
            await DuckDb.ExecuteAsync(context.Connection, EmptyTable(context.OutputTable, pattern), ct);
            return new StepResult(0, new Dictionary<string, object?> { ["files"] = Array.Empty<string>() });
        }

        var format = Format ?? FormatOf(files[0].Path);
        // On an S3 lake DuckDB reads the local cache: only the files this read takes are downloaded.
        await context.Lake.Storage.FetchAsync(files, ct);
        var rows = await LoadAsync(context, files, format, pattern, details, ct);
        return new StepResult(rows, details);
    }

    /// <summary>
    /// Whether a listed file differs from the version a watermark took: by ETag when both have one (an S3 lake, where
    /// an object copied again with the same bytes is the same file), else by size and time.
    /// </summary>
    static bool Changed(WatermarkFile taken, LakeFile listed) =>
        taken.ETag is not null && listed.ETag is not null ? taken.ETag != listed.ETag : taken.Size != listed.Size || taken.Modified != listed.Modified;

    static string Identity(long size, DateTimeOffset modified, string? etag) => $"{size} bytes at {modified:u}{(etag is null ? "" : $", etag {etag}")}";

    // The rejects tables are per connection; the token keeps their names apart from other steps' in the same run.
    string StepToken => Math.Abs(Path.GetHashCode(StringComparison.Ordinal)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Quarantines the rows DuckDB rejected (kept in its rejects table), with file, line and reason, and records an anomaly.</summary>
    async Task QuarantineRejectsAsync(StepContext context, Dictionary<string, object?> details, CancellationToken ct)
    {
        var rejects = $"__rejects_{StepToken}";
        var root = context.Lake.Root.Length + 2;
        var rows = SqlText.Identifier($"__rejected_{context.Step.Id}");
        await DuckDb.ExecuteAsync(context.Connection, $"""
            CREATE TABLE {rows} AS
            SELECT substr(s.file_path, {root}) AS file, e.line, any_value(e.csv_line) AS original_line,
                   string_agg(coalesce(e.column_name || ': ', '') || e.error_message, '; ' ORDER BY e.column_idx) AS _reason
            FROM {rejects} e JOIN __rejects_scan_{StepToken} s ON s.scan_id = e.scan_id AND s.file_id = e.file_id
            GROUP BY ALL ORDER BY file, line
            """, ct);
        var count = await DuckDb.CountAsync(context.Connection, rows, ct);
        details["rejected_rows"] = count;
        if (count > 0)
        {
            var path = await Quality.Quarantine.WriteAsync(context, context.Step.Id, rows, ct);
            details["quarantine"] = path;
            var examples = new List<string>();
            using (var command = context.Connection.CreateCommand())
            {
                command.CommandText = $"SELECT file, line, _reason FROM {rows} LIMIT 5";
                using var reader = command.ExecuteReader();
                while (reader.Read()) examples.Add($"{reader.GetString(0)} line {reader.GetInt64(1)}: {reader.GetString(2)}");
            }
            await context.ReportAnomalyAsync("corrupt_rows", AnomalySeverity.Warning, "quarantine",
                $"{count} malformed row(s) quarantined to {path}, e.g. {examples[0]}", new { rows = count, quarantine = path, examples }, ct);
        }
        await DuckDb.ExecuteAsync(context.Connection, $"DROP TABLE {rows}", ct);
    }

    /// <summary>An empty table with the schema's columns, and partition keys the schema does not type as VARCHAR.</summary>
    string EmptyTable(string table, string pattern)
    {
        var columns = Schema!.Select(c => $"{SqlText.Identifier(c.Column)} {c.Type}").ToList();
        if (HivePartitioning ?? pattern.Contains('=', StringComparison.Ordinal))
            columns.AddRange(PartitionKeys(pattern).Where(k => !Schema!.Any(c => c.Column == k)).Select(k => $"{SqlText.Identifier(k)} VARCHAR"));
        if (Filename) columns.Add("filename VARCHAR");
        return $"CREATE TABLE {table} ({string.Join(", ", columns)})";
    }

    /// <summary>The keys of the key=value folders in a path pattern (dt for raw/events/dt=*/x.csv).</summary>
    static IReadOnlyList<string> PartitionKeys(string path) =>
        path.Split('/').Where(s => s.IndexOf('=', StringComparison.Ordinal) > 0).Select(s => s[..s.IndexOf('=', StringComparison.Ordinal)]).ToList();

    /// <summary>The first key of a key=value folder in a path pattern (dt for raw/events/dt=*/x.csv).</summary>
    static string? DefaultPartitionKey(string path) =>
        path.Split('/').FirstOrDefault(s => s.Contains('=', StringComparison.Ordinal) && s.IndexOf('=', StringComparison.Ordinal) > 0) is { } segment
            ? segment[..segment.IndexOf('=', StringComparison.Ordinal)]
            : null;

    static string? PartitionValue(string path, string key) =>
        path.Split('/').FirstOrDefault(s => s.StartsWith(key + "=", StringComparison.Ordinal)) is { } segment ? segment[(key.Length + 1)..] : null;

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

    string Source(string format, IReadOnlyList<string> files, string pattern, string? sniffedDelimiter = null)
    {
        var list = DuckDb.FileList(files);
        var hive = HivePartitioning ?? pattern.Contains('=', StringComparison.Ordinal);
        var keys = hive ? PartitionKeys(pattern) : [];
        // With an explicit schema the columns are fixed (union_by_name would make DuckDB sniff each file again);
        // partition keys listed in the schema type the key=value folders.
        // DuckDB cannot keep rejected rows while combining files by name: under on_error: quarantine, files without a
        // schema are read with the first file's columns (a later file's extra columns are not read; one that lacks a
        // column fails the step).
        var unionByName = Schema is null && !(QuarantineErrors && format == "csv");
        var common = $"hive_partitioning = {(hive ? "true" : "false")}, union_by_name = {(unionByName ? "true" : "false")}, filename = '{SourceColumn}'";
        var hiveTypes = Schema?.Where(c => keys.Contains(c.Column)).ToList() ?? [];
        if (hiveTypes.Count > 0) common += ", hive_types = {" + string.Join(", ", hiveTypes.Select(c => $"{SqlText.Quote(c.Column)}: {SqlText.Quote(c.Type)}")) + "}";
        var fileColumns = Schema?.Where(c => !keys.Contains(c.Column)).ToList();
        var columns = fileColumns is null ? null : "{" + string.Join(", ", fileColumns.Select(c => $"{SqlText.Quote(c.Column)}: {SqlText.Quote(c.Type)}")) + "}";
        switch (format)
        {
            case "csv":
                var options = $"header = {(Header ? "true" : "false")}, strict_mode = true, " +
                    (QuarantineErrors ? $"store_rejects = true, rejects_table = '__rejects_{StepToken}', rejects_scan = '__rejects_scan_{StepToken}'" : "ignore_errors = false");
                if ((Delimiter ?? sniffedDelimiter) is { } delimiter) options += ", " + CsvDialect(delimiter);
                if (columns is not null) options += $", columns = {columns}, auto_detect = false";
                return $"SELECT * FROM read_csv({list}, {options}, {common})";
            case "json":
                return $"SELECT * FROM read_json({list}, format = 'auto'{(columns is null ? "" : $", columns = {columns}")}, {common})";
            default:
                var select = fileColumns is null or { Count: 0 } ? "*" : "* REPLACE (" + string.Join(", ", fileColumns.Select(c => $"CAST({SqlText.Identifier(c.Column)} AS {c.Type}) AS {SqlText.Identifier(c.Column)}")) + ")";
                return $"SELECT {select} FROM read_parquet({list}, {common})";
        }
    }
}
