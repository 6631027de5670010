using Millrace.Definitions.Options;

namespace Millrace.Steps;

/// <summary>The options of a <c>merge</c> step.</summary>
public sealed record MergeOptions
{
    [Option("into", "The dataset to merge into; the first merge creates it. A plain name: no parameters.", Required = true, Type = "dataset name")]
    public string Into { get; init; } = "";

    [Option("key", "The columns that identify a row.", Required = true, Missing = "a merge step needs 'key': the column(s) that identify a row", Type = "column or list of columns")]
    public IReadOnlyList<string> Key { get; init; } = [];

    [Option("order_by", "Which row is latest: the greatest value wins, within the batch and against the stored row. Without it, the batch must not repeat a key, and incoming rows always win.", Type = "column")]
    public string? OrderBy { get; init; }

    [Option("delete_column", "Rows where it is true delete their key. It is not stored.", Type = "boolean column")]
    public string? DeleteColumn { get; init; }

    [Option("partition_by", "Partition the dataset by columns that never change for a key (e.g. an event's date): a batch rewrites only its partitions.", Type = "list of columns")]
    public IReadOnlyList<string> PartitionBy { get; init; } = [];

    [Option("on_schema_change", "A batch whose columns differ from the dataset's is a `schema_change` anomaly. `fail` stops the step; `evolve` adds new columns (NULL in earlier rows) and keeps removed ones (NULL in new rows). A column that changed type always fails.")]
    public SchemaChangePolicy OnSchemaChange { get; init; } = SchemaChangePolicy.Fail;

    [Option("buckets", "Partition the dataset into N buckets by a hash of the key (for data with no such column): a batch rewrites only the buckets it touches. Not with `partition_by`.", Minimum = 1, Maximum = 4096)]
    public int? Buckets { get; init; }
}
