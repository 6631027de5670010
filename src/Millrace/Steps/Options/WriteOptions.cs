using Millrace.Definitions.Options;

namespace Millrace.Steps;

/// <summary>How a <c>write</c> step replaces a dataset's rows.</summary>
public enum WriteMode { Overwrite, Append, ReplacePartitions }

/// <summary>The file format of a <c>write</c> step's path.</summary>
public enum WriteFormat { Parquet, Csv }

/// <summary>What a batch whose columns differ from the dataset's does.</summary>
public enum SchemaChangePolicy { Fail, Evolve }

/// <summary>The options of a <c>write</c> step.</summary>
public sealed record WriteOptions
{
    [Option("dataset", "The dataset to write a new version of (one of `dataset` or `path`). A plain name: no parameters.", Type = "name")]
    public string? Dataset { get; init; }

    [Option("path", "A folder (ending in `/`, or without an extension) or a file to write, e.g. `predictions/churn/dt=${run.date}/`. Parameters are allowed.", Type = "lake path")]
    public string? Path { get; init; }

    [Option("format", "The file format for `path`. Datasets are always Parquet (`format: csv` with `dataset` is an error).", Default = "`csv` if `path` ends in `.csv`, else `parquet`")]
    public WriteFormat? Format { get; init; }

    [Option("mode", "Datasets only: replace all rows, add rows, or replace only the partitions the input touches. Files under a path are always written in `overwrite` mode.")]
    public WriteMode Mode { get; init; } = WriteMode.Overwrite;

    [Option("partition_by", "Writes hive folders `col=value/`. `replace_partitions` needs it.", Type = "list of columns")]
    public IReadOnlyList<string> PartitionBy { get; init; } = [];

    [Option("on_schema_change", "Datasets, `append` and `replace_partitions`: what a batch whose columns differ from the dataset's does. `fail` stops the step; `evolve` adds new columns to the schema (NULL in earlier rows) and keeps removed ones (NULL in new rows). A column that changed type always fails.")]
    public SchemaChangePolicy OnSchemaChange { get; init; } = SchemaChangePolicy.Fail;
}
