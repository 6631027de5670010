using DuckDB.NET.Data;
using Millrace.Definitions;
using Millrace.Storage;

namespace Millrace.Cli.Tests.TestSupport;

/// <summary>Reads what a project committed: dataset rows through the store's current version, with DuckDB.</summary>
public static class Committed
{
    /// <summary>The rows of the current version of <paramref name="dataset"/>, as sorted text lines (empty when none).</summary>
    public static async Task<IReadOnlyList<string>> RowsAsync(string projectDirectory, string dataset, string orderBy)
    {
        var project = Project.Open(projectDirectory);
        await using var store = await MetadataStores.OpenAsync(project, CancellationToken.None);
        var version = await store.GetDatasetVersionAsync(dataset, null, CancellationToken.None);
        if (version is null || version.Files.Count == 0) return [];
        // The project's lake: the folder, or for an S3 lake its cache, into which the files are fetched first.
        var local = await Millrace.Lake.LakeRoot.Open(project).FetchAsync(version.Files, CancellationToken.None);
        var files = string.Join(", ", local.Select(f => "'" + f.Replace("'", "''") + "'"));
        return Query($"SELECT * FROM read_parquet([{files}]) ORDER BY {orderBy}");
    }

    /// <summary>Runs a query in a fresh in-memory DuckDB and returns each row as comma-joined text.</summary>
    public static IReadOnlyList<string> Query(string sql)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
            rows.Add(string.Join(",", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : Text(reader.GetValue(i)))));
        return rows;
    }

    static string Text(object value) => value switch
    {
        DateOnly d => d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    public static async Task<IReadOnlyList<Run>> RunsAsync(string projectDirectory)
    {
        var project = Project.Open(projectDirectory);
        await using var store = await MetadataStores.OpenAsync(project, CancellationToken.None);
        return await store.FindRunsAsync(new RunFilter(), new Page(0, 1000), CancellationToken.None);
    }
}
