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
            FaultInjection.Hit($"{context.Workflow}.{context.Step.Id}.mid-write");
        }
        return written;
    }

    /// <summary>Row count of a list of dataset files, from Parquet metadata.</summary>
    public static async Task<long> CountAsync(StepContext context, IReadOnlyList<string> files, CancellationToken ct) =>
        files.Count == 0 ? 0 : await DuckDb.ScalarAsync<long>(context.Connection, $"SELECT COUNT(*) FROM read_parquet({DuckDb.FileList(files.Select(context.Lake.Resolve))})", ct);

    /// <summary>Fails when <paramref name="incoming"/> does not have the dataset's columns and types, naming each difference.</summary>
    public static void CheckSameSchema(string dataset, IReadOnlyList<ColumnSchema> current, IReadOnlyList<ColumnSchema> incoming, string remedy)
    {
        var added = incoming.Where(c => !current.Any(o => o.Name == c.Name)).Select(c => $"+{c.Name} {c.Type}");
        var removed = current.Where(c => !incoming.Any(o => o.Name == c.Name)).Select(c => $"-{c.Name}");
        var retyped = incoming.Where(c => current.Any(o => o.Name == c.Name && o.Type != c.Type))
            .Select(c => $"{c.Name} {current.First(o => o.Name == c.Name).Type}->{c.Type}");
        var changes = added.Concat(removed).Concat(retyped).ToList();
        if (changes.Count > 0)
            throw new StepFailedException($"the input's schema differs from dataset '{dataset}' ({string.Join(", ", changes)}); {remedy}");
    }
}
