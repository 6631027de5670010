using System.Globalization;
using Millrace.Datasets;
using Millrace.Definitions;
using Millrace.Definitions.Options;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Parameters;
using Millrace.Storage;

using YamlDotNet.RepresentationModel;

namespace Millrace.Steps;

/// <summary>
/// <c>merge</c>: upserts a batch into a dataset by key. Within the batch the latest row per key (by
/// <c>order_by</c>) wins; against the history, an incoming row replaces the stored one unless the stored one is
/// newer; a row whose <c>delete_column</c> is true removes the key. The dataset is partitioned (by
/// <c>partition_by</c> columns that never change for a key, such as an event's date, or by <c>buckets</c> of the
/// key's hash) and only the partitions the batch touches are read and rewritten: a merge costs the batch plus the
/// touched partitions, not the history. Reports inserted, updated, deleted and unchanged counts.
/// </summary>
public sealed class MergeStep : IStep, IDatasetProducer
{
    public required string Into { get; init; }
    public required IReadOnlyList<string> Key { get; init; }
    public string? OrderBy { get; init; }
    public string? DeleteColumn { get; init; }
    public IReadOnlyList<string> PartitionBy { get; init; } = [];
    public int? Buckets { get; init; }
    public bool EvolveSchema { get; init; }

    public string Dataset => Into;

    // A key's bucket is md5-based, so it never changes with a DuckDB upgrade (hash() may).
    const string BucketColumn = "__bucket";

    public static StepKind Kind { get; } = StepKind.Create<MergeOptions>(
        "merge",
        "Upsert a batch into a dataset by key (latest row per key wins; optional deletes), rewriting only touched partitions.",
        Parse);

    static IStep? Parse(StepDefinition definition, YamlNodeReader reader, MergeOptions options)
    {
        var map = definition.Options;
        if (definition.Inputs.Count != 1) reader.Error(map, $"a merge step needs exactly one input (the batch), has {definition.Inputs.Count}");
        var into = YamlNodeReader.Find(map, "into") is YamlScalarNode ? options.Into : null;
        if (into is not null && !ProjectLoader.IsIdentifier(into)) reader.Error(YamlNodeReader.Find(map, "into")!, $"dataset name '{into}' may use letters, digits and '_' only");
        if (options.Key.Count == 0 && YamlNodeReader.Find(map, "key") is { } keyNode) reader.Error(keyNode, "a merge step needs 'key': the column(s) that identify a row");
        if (options.Buckets is not null && options.PartitionBy.Count > 0) reader.Error(YamlNodeReader.Find(map, "buckets")!, "use partition_by or buckets, not both");
        if (into is null || options.Key.Count == 0) return null;
        return new MergeStep
        {
            Into = into, Key = options.Key, OrderBy = options.OrderBy, DeleteColumn = options.DeleteColumn,
            PartitionBy = options.PartitionBy, Buckets = options.Buckets, EvolveSchema = options.OnSchemaChange == SchemaChangePolicy.Evolve,
        };
    }

    public async ValueTask<StepResult> ExecuteAsync(StepContext context, CancellationToken ct)
    {
        var connection = context.Connection;
        var input = context.SingleInput;
        var inputSchema = DuckDb.Describe(connection, input);
        foreach (var column in Key.Concat(PartitionBy).Concat(OrderBy is null ? [] : [OrderBy]).Concat(DeleteColumn is null ? [] : [DeleteColumn]))
            if (!inputSchema.Any(c => c.Name == column))
                throw new StepFailedException($"column '{column}' is not in the batch (columns: {string.Join(", ", inputSchema.Select(c => c.Name))})");
        IReadOnlyList<ColumnSchema> batchSchema = inputSchema.Where(c => c.Name != DeleteColumn).ToList();
        var schema = batchSchema;
        var current = await DatasetFiles.BaseVersionAsync(context, Into, ct);
        var batchRows = await DuckDb.CountAsync(connection, input, ct);
        // An empty version has no rows to disagree with, nor has an empty batch (a header-only CSV read without a
        // schema gives VARCHAR columns); otherwise the batch must match, or evolve the schema.
        if (current is { Rows: > 0 } && batchRows > 0)
            schema = await DatasetFiles.ReconcileSchemaAsync(context, Into, current.Schema, batchSchema, EvolveSchema, "set on_schema_change: evolve, or write the dataset anew (write, mode: overwrite)", ct);
        var historySchema = current is { Rows: > 0 } ? current.Schema : schema;

        var keys = string.Join(", ", Key.Select(SqlText.Identifier));
        var join = string.Join(" AND ", Key.Select(k => $"b.{SqlText.Identifier(k)} IS NOT DISTINCT FROM e.{SqlText.Identifier(k)}"));
        var partitionColumns = Buckets is null ? PartitionBy : [BucketColumn];
        var bucketExpression = Buckets is null ? "" : $", lpad(CAST(md5_number(concat_ws('|', {string.Join(", ", Key.Select(k => $"CAST({SqlText.Identifier(k)} AS VARCHAR)"))})) % {Buckets} AS VARCHAR), 4, '0') AS {BucketColumn}";
        var dataColumns = string.Join(", ", schema.Select(c => SqlText.Identifier(c.Name)));
        var deleted = DeleteColumn is null ? "FALSE" : $"coalesce(CAST({SqlText.Identifier(DeleteColumn)} AS BOOLEAN), FALSE)";

        // The batch, one row per key: the latest by order_by.
        await DuckDb.ExecuteAsync(connection, $"""
            CREATE TEMP TABLE __batch AS
            SELECT {DatasetFiles.Conform(schema, batchSchema)}, {deleted} AS __deleted{bucketExpression}
            FROM {input}
            {(OrderBy is null ? "" : $"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {SqlText.Identifier(OrderBy)} DESC NULLS LAST) = 1")}
            """, ct);
        var distinctRows = await DuckDb.CountAsync(connection, "__batch", ct);
        if (distinctRows == 0 && current is not null)
        {
            // Nothing to merge: no new version, the history stays as it is.
            await DuckDb.ExecuteAsync(connection, $"CREATE TABLE {context.OutputTable} AS SELECT {DatasetFiles.Conform(schema, batchSchema)}, 'unchanged' AS merge_outcome FROM {input} WHERE FALSE; DROP TABLE __batch;", ct);
            await context.LogAsync($"empty batch: '{Into}' stays at v{current.Version}", ct);
            return new StepResult(0, new Dictionary<string, object?> { ["dataset"] = Into, ["version"] = current.Version, ["inserted"] = 0L, ["updated"] = 0L, ["deleted"] = 0L, ["unchanged"] = 0L, ["ignored"] = 0L });
        }
        if (OrderBy is null)
        {
            var distinctKeys = await DuckDb.ScalarAsync<long>(connection, $"SELECT COUNT(*) FROM (SELECT DISTINCT {keys} FROM __batch)", ct);
            if (distinctKeys != distinctRows)
                throw new StepFailedException($"the batch has {distinctRows - distinctKeys} repeated key(s) and no order_by to tell which row is latest; set order_by");
        }

        // Only the partitions the batch touches are read: the rest of the history is carried over untouched.
        var touched = (await DatasetFiles.PartitionsAsync(context, "__batch", partitionColumns, ct)).Select(p => p.Folder).ToHashSet(StringComparer.Ordinal);
        var history = current?.Files ?? [];
        var affectedFiles = history.Where(f => touched.Contains(DatasetFiles.FolderOf(f))).ToList();
        var keptFiles = history.Where(f => !touched.Contains(DatasetFiles.FolderOf(f))).ToList();
        var affectedRead = $"read_parquet({DuckDb.FileList(await context.Lake.FetchAsync(affectedFiles, ct))}, union_by_name = true, hive_partitioning = false)";
        // The columns the affected files really have: after an evolution, files written before it lack the added
        // columns (NULL for them), even though the version's schema lists them.
        var existing = affectedFiles.Count == 0
            ? $"(SELECT {string.Join(", ", schema.Select(c => $"CAST(NULL AS {c.Type}) AS {SqlText.Identifier(c.Name)}"))}{(Buckets is null ? "" : $", CAST(NULL AS VARCHAR) AS {BucketColumn}")} WHERE FALSE)"
            : $"(SELECT {DatasetFiles.Conform(schema, DuckDb.Describe(connection, affectedRead).Where(c => historySchema.Any(h => h.Name == c.Name)).ToList())}{bucketExpression} FROM {affectedRead})";
        await DuckDb.ExecuteAsync(connection, $"CREATE TEMP TABLE __existing AS SELECT * FROM {existing} e", ct);

        var newer = OrderBy is null ? "TRUE" : $"(e.{SqlText.Identifier(OrderBy)} IS NULL OR b.{SqlText.Identifier(OrderBy)} >= e.{SqlText.Identifier(OrderBy)})";
        var same = string.Join(" AND ", schema.Select(c => $"b.{SqlText.Identifier(c.Name)} IS NOT DISTINCT FROM e.{SqlText.Identifier(c.Name)}"));
        await DuckDb.ExecuteAsync(connection, $"""
            CREATE TEMP TABLE __outcome AS
            SELECT b.*, CASE
                WHEN e.__present IS NULL THEN CASE WHEN b.__deleted THEN 'ignored' ELSE 'inserted' END
                WHEN NOT {newer} THEN 'unchanged'
                WHEN b.__deleted THEN 'deleted'
                WHEN {same} THEN 'unchanged'
                ELSE 'updated' END AS __outcome
            FROM __batch b LEFT JOIN (SELECT *, TRUE AS __present FROM __existing) e ON {join}
            """, ct);
        var counts = new Dictionary<string, long> { ["inserted"] = 0, ["updated"] = 0, ["deleted"] = 0, ["unchanged"] = 0, ["ignored"] = 0 };
        await Task.Run(() =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT __outcome, COUNT(*) FROM __outcome GROUP BY ALL";
            using var reader = command.ExecuteReader();
            while (reader.Read()) counts[reader.GetString(0)] = reader.GetInt64(1);
        }, ct);

        // The touched partitions anew: stored rows the batch does not replace, plus the batch's inserts and updates.
        var bucketSelect = Buckets is null ? "" : $", {BucketColumn}";
        await DuckDb.ExecuteAsync(connection, $"""
            CREATE TEMP TABLE __merged AS
            SELECT {dataColumns}{bucketSelect} FROM __existing e
            WHERE NOT EXISTS (SELECT 1 FROM __outcome b WHERE {join} AND b.__outcome IN ('updated', 'deleted'))
            UNION ALL
            SELECT {dataColumns}{bucketSelect} FROM __outcome WHERE __outcome IN ('inserted', 'updated')
            """, ct);
        var written = await DatasetFiles.WriteAsync(context, Into, "__merged", partitionColumns, Buckets is null ? [] : [BucketColumn], ct);
        var mergedRows = await DuckDb.CountAsync(connection, "__merged", ct);
        var files = keptFiles.Concat(written.Select(w => w.File)).ToList();
        // __existing holds exactly the rows of the affected files: no need to read their metadata again.
        var keptRows = current is null ? 0 : current.Rows - await DuckDb.CountAsync(connection, "__existing", ct);
        var totalRows = keptRows + mergedRows;

        var version = new DatasetVersion
        {
            Dataset = Into,
            Version = (current?.Version ?? 0) + 1,
            RunId = context.RunId,
            Workflow = context.Workflow,
            StepId = context.Step.Id,
            CreatedAt = context.Clock.GetUtcNow(),
            Rows = totalRows,
            Files = files,
            Schema = schema,
            Operation = "merge",
            UniformSchema = current?.StaysUniform(keptFiles, schema) ?? true,
        };
        context.Commit.AddDatasetVersion(version, current?.Version);
        // The output (for later steps) is the batch with each row's outcome; temp tables die with this connection.
        await DuckDb.ExecuteAsync(connection, $"CREATE TABLE {context.OutputTable} AS SELECT {dataColumns}, __outcome AS merge_outcome FROM __outcome", ct);
        await DuckDb.ExecuteAsync(connection, "DROP TABLE __batch; DROP TABLE __existing; DROP TABLE __merged; DROP TABLE __outcome;", ct);
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"merged {batchRows} batch rows into '{Into}' v{version.Version}: {counts["inserted"]} inserted, {counts["updated"]} updated, {counts["deleted"]} deleted, {counts["unchanged"]} unchanged, {counts["ignored"]} ignored (deletes of unknown keys); rewrote {touched.Count} of {history.Select(DatasetFiles.FolderOf).Distinct().Count()} partition(s), {totalRows} rows in total");
        await context.LogAsync(summary, ct);
        return new StepResult(batchRows, new Dictionary<string, object?>
        {
            ["dataset"] = Into, ["version"] = version.Version, ["inserted"] = counts["inserted"], ["updated"] = counts["updated"],
            ["deleted"] = counts["deleted"], ["unchanged"] = counts["unchanged"], ["ignored"] = counts["ignored"], ["duplicates_in_batch"] = batchRows - distinctRows,
            ["partitions_rewritten"] = touched.Count, ["files_kept"] = keptFiles.Count, ["rows_total"] = totalRows,
        });
    }
}
