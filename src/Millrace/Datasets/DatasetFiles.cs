using System.Globalization;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Datasets;

/// <summary>
/// Writes and lays out a dataset's Parquet files: <c>datasets/&lt;name&gt;/[col=value/…]part-&lt;run&gt;-&lt;step&gt;-N.parquet</c>.
/// Files get names no other run uses and are listed by a version only when the run commits, so they can be
/// written straight to their place. Used by the write and merge steps.
/// </summary>
public static class DatasetFiles
{
    /// <summary>Hive's name for a NULL partition value.</summary>
    public const string NullPartition = "__HIVE_DEFAULT_PARTITION__";

    /// <summary>The version a new version of <paramref name="dataset"/> is based on: the one the run read, else the latest.</summary>
    public static async Task<DatasetVersion?> BaseVersionAsync(StepContext context, string dataset, CancellationToken ct)
    {
        var read = context.Commit.VersionRead(dataset);
        return await context.Store.GetDatasetVersionAsync(dataset, read, ct);
    }

    /// <summary>The partition folder of a dataset file (<c>dt=2026-01-01</c>, or "" when unpartitioned).</summary>
    public static string FolderOf(string datasetFile)
    {
        var segments = datasetFile.Split('/');
        return string.Join('/', segments.Skip(2).Take(segments.Length - 3));
    }

    /// <summary>The folder for partition values: <c>col=value/…</c>, values URL-escaped, NULL as Hive writes it.</summary>
    public static string Folder(IReadOnlyList<string> columns, IReadOnlyList<string?> values) =>
        string.Join('/', columns.Select((c, i) => $"{c}={(values[i] is { } v ? Uri.EscapeDataString(v) : NullPartition)}"));

    /// <summary>The distinct partition values of <paramref name="relation"/> (as text), with their folder names.</summary>
    public static async Task<IReadOnlyList<(string Folder, string Where)>> PartitionsAsync(StepContext context, string relation, IReadOnlyList<string> columns, CancellationToken ct)
    {
        if (columns.Count == 0) return [("", "TRUE")];
        var casts = string.Join(", ", columns.Select(c => $"CAST({SqlText.Identifier(c)} AS VARCHAR)"));
        var result = new List<(string, string)>();
        await Task.Run(() =>
        {
            using var command = context.Connection.CreateCommand();
            command.CommandText = $"SELECT DISTINCT {casts} FROM {relation} ORDER BY ALL";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var values = Enumerable.Range(0, columns.Count).Select(i => reader.IsDBNull(i) ? null : reader.GetString(i)).ToList();
                var where = string.Join(" AND ", columns.Select((c, i) => values[i] is { } v
                    ? $"CAST({SqlText.Identifier(c)} AS VARCHAR) = {SqlText.Quote(v)}"
                    : $"{SqlText.Identifier(c)} IS NULL"));
                result.Add((Folder(columns, values), where));
            }
        }, ct);
        return result;
    }

    /// <summary>
    /// Writes <paramref name="relation"/> to the dataset, one Parquet file per partition of <paramref name="columns"/>,
    /// leaving out <paramref name="exclude"/>d helper columns. Returns the lake-relative files by folder.
    /// </summary>
    public static async Task<IReadOnlyList<(string Folder, string File)>> WriteAsync(
        StepContext context, string dataset, string relation, IReadOnlyList<string> columns, IReadOnlyList<string> exclude, CancellationToken ct)
    {
        var select = exclude.Count == 0 ? "*" : $"* EXCLUDE ({string.Join(", ", exclude.Select(SqlText.Identifier))})";
        var written = new List<(string, string)>();
        var index = 0;
        foreach (var (folder, where) in await PartitionsAsync(context, relation, columns, ct))
        {
            var relative = $"datasets/{dataset}/{(folder.Length == 0 ? "" : folder + "/")}part-{context.RunId}-{context.Step.Id}-{index++.ToString(CultureInfo.InvariantCulture)}.parquet";
            var absolute = context.Lake.Resolve(relative);
            Directory.CreateDirectory(Path.GetDirectoryName(absolute)!);
            context.Commit.AddWrittenFile(absolute);
            await DuckDb.ExecuteAsync(context.Connection,
                $"COPY (SELECT {select} FROM {relation} WHERE {where}) TO {SqlText.Quote(absolute)} (FORMAT parquet, COMPRESSION zstd)", ct);
            written.Add((folder, relative));
            context.Faults.Hit($"{context.Workflow}.{context.Step.Id}.mid-write");
        }
        return written;
    }

    /// <summary>
    /// The SELECT that reads a committed version: its schema's columns from its Parquet files. When every file sits
    /// under the same <c>col=value/</c> folders, the folders are declared as Hive partitions typed from the schema, so
    /// a query that filters on a partition column (<c>WHERE event_date = …</c>) skips the other folders' files
    /// before opening them: the cost of such a query follows the partitions it reads, not the history.
    /// Helper partition columns that are not in the schema (a merge's <c>__bucket</c>) serve pruning only. Files
    /// are matched by column name, and only a version whose files differ (its schema evolved) pays for DuckDB's
    /// <c>union_by_name</c>, which reads every file's footer to bind.
    /// </summary>
    public static string ReadSql(DatasetVersion version, Func<string, string> resolve)
    {
        var columns = string.Join(", ", version.Schema.Select(c => SqlText.Identifier(c.Name)));
        var keys = PartitionKeysOf(version.Files);
        var hive = keys is { Count: > 0 }
            ? ", hive_partitioning = true, hive_types_autocast = false, hive_types = {" + string.Join(", ", keys.Select(k =>
                $"{SqlText.Quote(k)}: {SqlText.Quote(version.Schema.FirstOrDefault(c => c.Name == k)?.Type ?? "VARCHAR")}")) + "}"
            : ", hive_partitioning = false";
        // union_by_name opens every file's footer whenever a query binds the view: only when the files differ.
        var union = version.UniformSchema ? "false" : "true";
        return $"SELECT {columns} FROM read_parquet({DuckDb.FileList(version.Files.Select(resolve))}, union_by_name = {union}{hive})";
    }

    /// <summary>The partition columns shared by every file (in folder order), or null when the files disagree.</summary>
    static IReadOnlyList<string>? PartitionKeysOf(IReadOnlyList<string> files)
    {
        IReadOnlyList<string>? keys = null;
        foreach (var file in files)
        {
            var folder = FolderOf(file);
            var these = folder.Length == 0 ? [] : folder.Split('/').Select(segment => segment.Split('=', 2)[0]).ToList();
            if (keys is null) keys = these;
            else if (!keys.SequenceEqual(these, StringComparer.Ordinal)) return null;
        }
        return keys;
    }

    /// <summary>Row count of a list of dataset files, from Parquet metadata.</summary>
    public static async Task<long> CountAsync(StepContext context, IReadOnlyList<string> files, CancellationToken ct) =>
        files.Count == 0 ? 0 : await DuckDb.ScalarAsync<long>(context.Connection, $"SELECT COUNT(*) FROM read_parquet({DuckDb.FileList(await context.Lake.FetchAsync(files, ct))})", ct);

    /// <summary>
    /// Compares the batch's schema with the dataset's current version. The same: returns it. Different: records a
    /// <c>schema_change</c> anomaly (added, removed, retyped columns) and, when <paramref name="evolve"/>, returns the
    /// evolved schema — the current columns plus the added ones; a removed column stays, NULL in new rows. Otherwise,
    /// or when a column changed type, fails naming each difference.
    /// </summary>
    public static async Task<IReadOnlyList<ColumnSchema>> ReconcileSchemaAsync(StepContext context, string dataset, IReadOnlyList<ColumnSchema> current,
        IReadOnlyList<ColumnSchema> incoming, bool evolve, string remedy, CancellationToken ct)
    {
        var added = incoming.Where(c => !current.Any(o => o.Name == c.Name)).ToList();
        var removed = current.Where(c => !incoming.Any(o => o.Name == c.Name)).ToList();
        var retyped = incoming.Where(c => current.Any(o => o.Name == c.Name && o.Type != c.Type)).ToList();
        if (added.Count + removed.Count + retyped.Count == 0) return current;
        var changes = added.Select(c => $"+{c.Name} {c.Type}").Concat(removed.Select(c => $"-{c.Name}"))
            .Concat(retyped.Select(c => $"{c.Name} {current.First(o => o.Name == c.Name).Type}->{c.Type}")).ToList();
        var evolves = evolve && retyped.Count == 0;
        await context.ReportAnomalyAsync("schema_change", evolves ? AnomalySeverity.Warning : AnomalySeverity.Error, evolves ? "evolve" : "fail",
            $"the batch's schema differs from dataset '{dataset}': {string.Join(", ", changes)}{(evolves ? "; the dataset schema evolves" : "")}",
            new { dataset, added = added.Select(c => c.Name), removed = removed.Select(c => c.Name), retyped = retyped.Select(c => c.Name) }, ct);
        if (!evolves)
            throw new StepFailedException($"the input's schema differs from dataset '{dataset}' ({string.Join(", ", changes)}); " +
                (evolve ? "a column changed type, which cannot evolve: cast it in SQL" : remedy));
        return [.. current, .. added];
    }

    /// <summary>A select list that shapes a relation with columns <paramref name="available"/> to <paramref name="target"/> (NULL for what it lacks).</summary>
    public static string Conform(IReadOnlyList<ColumnSchema> target, IReadOnlyList<ColumnSchema> available) =>
        string.Join(", ", target.Select(c => available.Any(a => a.Name == c.Name)
            ? SqlText.Identifier(c.Name)
            : $"CAST(NULL AS {c.Type}) AS {SqlText.Identifier(c.Name)}"));
}
