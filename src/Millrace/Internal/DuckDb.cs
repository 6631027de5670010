using DuckDB.NET.Data;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Internal;

/// <summary>DuckDB helpers: opening a run's database, running SQL with cancellation, reading schemas and counts.</summary>
internal static class DuckDb
{
    /// <summary>
    /// Opens an in-memory DuckDB for one workflow run. It spills to <paramref name="tempDirectory"/> when data outgrows
    /// memory, never installs extensions from the network, and uses <paramref name="threads"/> threads.
    /// </summary>
    public static DuckDBConnection OpenInMemory(string tempDirectory, int? threads = null)
    {
        Directory.CreateDirectory(tempDirectory);
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        var settings = $"SET autoinstall_known_extensions = false; SET temp_directory = {SqlText.Quote(tempDirectory)}; SET preserve_insertion_order = true;";
        if (threads is not null) settings += $" SET threads = {threads};";
        Execute(connection, settings);
        return connection;
    }

    public static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Runs SQL (possibly several statements) off the caller's thread; cancellation interrupts the query.</summary>
    public static async Task ExecuteAsync(DuckDBConnection connection, string sql, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var registration = ct.Register(() =>
        {
            try { command.Cancel(); } catch (Exception) { /* the query may have finished meanwhile */ }
        });
        try
        {
            await Task.Run(() => command.ExecuteNonQuery(), CancellationToken.None);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException(ct);
        }
    }

    /// <summary>Runs a query that returns one value, on the caller's thread (for code already off the request path).</summary>
    public static T Scalar<T>(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static async Task<T> ScalarAsync<T>(DuckDBConnection connection, string sql, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var registration = ct.Register(() =>
        {
            try { command.Cancel(); } catch (Exception) { /* finished meanwhile */ }
        });
        try
        {
            var value = await Task.Run(() => command.ExecuteScalar(), CancellationToken.None);
            return (T)Convert.ChangeType(value!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException(ct);
        }
    }

    public static Task<long> CountAsync(DuckDBConnection connection, string table, CancellationToken ct) =>
        ScalarAsync<long>(connection, $"SELECT COUNT(*) FROM {table}", ct);

    /// <summary>The columns of a table, view or query result: name and DuckDB type.</summary>
    public static IReadOnlyList<ColumnSchema> Describe(DuckDBConnection connection, string relation)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"DESCRIBE SELECT * FROM {relation}";
        using var reader = command.ExecuteReader();
        var columns = new List<ColumnSchema>();
        while (reader.Read()) columns.Add(new ColumnSchema(reader.GetString(0), reader.GetString(1)));
        return columns;
    }

    /// <summary>
    /// A DuckDB list literal of file paths: <c>['a', 'b']</c>. Every path is taken literally: DuckDB globs each path it is
    /// given, so <c>* ? [</c> in a file's name (a landing file named <c>*.csv</c>, a partition value) are escaped as
    /// <c>[*] [?] [[]</c>, or one listed file would read its whole folder.
    /// </summary>
    public static string FileList(IEnumerable<string> paths) => "[" + string.Join(", ", paths.Select(p => SqlText.Quote(LiteralGlob(p)))) + "]";

    /// <summary>A path as a DuckDB glob that matches only itself.</summary>
    public static string LiteralGlob(string path) =>
        path.IndexOfAny(['*', '?', '[']) < 0 ? path
        : string.Concat(path.Select(c => c is '*' or '?' or '[' ? $"[{c}]" : c.ToString()));
}
