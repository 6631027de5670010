using System.Text.Json.Nodes;
using Millrace.Definitions.Options;

namespace Millrace.Steps;

/// <summary>The file format a <c>read</c> step reads.</summary>
public enum ReadFormat { Csv, Parquet, Json }

/// <summary>What an incremental <c>read</c> does with a committed file whose size or time changed.</summary>
public enum RewritePolicy { Reprocess, Ignore, Fail }

/// <summary>What a <c>read</c> does with a malformed row or file.</summary>
public enum ReadErrorPolicy { Fail, Quarantine }

/// <summary>The options of a <c>read</c> step.</summary>
public sealed record ReadOptions
{
    [Option("path", "The files to read, relative to the lake root, e.g. `raw/events/dt=${run.date}/*.csv`. Parameters are allowed.", Required = true, Type = "lake path or glob")]
    public string Path { get; init; } = "";

    [Option("format", "`.csv`, `.tsv`, `.txt` → csv; `.parquet`, `.pq` → parquet; `.json`, `.jsonl`, `.ndjson` → json; each also with `.gz`. The first file's extension decides.", Default = "from the extension")]
    public ReadFormat? Format { get; init; }

    [Option("schema", "Column types as DuckDB type names (`BIGINT`, `DOUBLE`, `VARCHAR`, `DATE`, `TIMESTAMP`, `DECIMAL(10,2)`, `VARCHAR[]`, …). A partition key listed here (`dt: DATE`) types the `key=value` folder column.",
        Type = "mapping `column: TYPE`", Default = "inferred", Schema = nameof(SchemaSchema))]
    public YamlDotNet.RepresentationModel.YamlNode? Schema { get; init; }

    [Option("header", "CSV: whether the first line holds column names.")]
    public bool Header { get; init; } = true;

    [Option("delimiter", "CSV: the field separator.", Default = "detected from the first file")]
    public string? Delimiter { get; init; }

    [Option("hive_partitioning", "Turns `key=value` folders into columns.", Default = "`true` if the path contains `=`")]
    public bool? HivePartitioning { get; init; }

    [Option("allow_empty", "Empty files are skipped, and a path that matches no file gives an empty table (this needs `schema`), instead of an error.")]
    public bool AllowEmpty { get; init; }

    [Option("filename", "Adds a `filename` column with each row's file, as a lake-relative path.")]
    public bool Filename { get; init; }

    [Option("incremental", "Takes only the files this step has not committed before (the watermark is the set of files, by path, size and time; see [incremental ingestion](incremental.md)).")]
    public bool Incremental { get; init; }

    [Option("on_rewrite", "Incremental: what to do with a committed file whose size or modification time changed. Always recorded as a `rewritten_file` anomaly.")]
    public RewritePolicy OnRewrite { get; init; } = RewritePolicy.Reprocess;

    [Option("since", "Only files whose partition value (see `partition_key`) is `>=` this, compared as text. Parameters are allowed (`since: ${from}`).", Type = "partition value")]
    public string? Since { get; init; }

    [Option("until", "Only files whose partition value is `<=` this, compared as text. Parameters are allowed (`until: ${run.date}`).", Type = "partition value")]
    public string? Until { get; init; }

    [Option("partition_key", "The `key=value` folder that `since` and `until` compare.", Type = "name", Default = "the first `key=` folder of `path`")]
    public string? PartitionKey { get; init; }

    [Option("on_error", "CSV: a malformed row fails the step, naming the file, line and column; or, with `quarantine`, goes to `quarantine/<step-id>/<run-id>/<step-id>.parquet` with its file, line and reason while the good rows go on (a `corrupt_rows` anomaly). Any format: a file that cannot be read or gives no rows though not empty fails the step, or with `quarantine` is quarantined whole (an `unreadable_file` anomaly; see [malformed files](incremental.md#malformed-files)).")]
    public ReadErrorPolicy OnError { get; init; } = ReadErrorPolicy.Fail;

    /// <summary>The JSON Schema of <c>schema</c>: column names to DuckDB type names.</summary>
    public static JsonObject SchemaSchema() => new()
    {
        ["type"] = "object",
        ["additionalProperties"] = new JsonObject { ["type"] = "string", ["description"] = "A DuckDB type name such as BIGINT, DOUBLE, VARCHAR, DATE, TIMESTAMP." },
    };
}
