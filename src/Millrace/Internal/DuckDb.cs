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
    public static Task ExecuteAsync(DuckDBConnection connection, string sql, CancellationToken ct) =>
        RunAsync(connection, sql, command => command.ExecuteNonQuery(), ct);

    /// <summary>Runs a query that returns one value, on the caller's thread (for code already off the request path).</summary>
    public static T Scalar<T>(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return ScalarOf<T>(command);
    }

    public static Task<T> ScalarAsync<T>(DuckDBConnection connection, string sql, CancellationToken ct) =>
        RunAsync(connection, sql, ScalarOf<T>, ct);

    /// <summary>Runs a query and returns its rows (NULL as null), on the caller's thread.</summary>
    public static List<object?[]> Rows(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return RowsOf(command);
    }

    /// <summary>Runs a query off the caller's thread and returns its rows (NULL as null); cancellation interrupts it.</summary>
    public static async Task<IReadOnlyList<object?[]>> RowsAsync(DuckDBConnection connection, string sql, CancellationToken ct) =>
        await RunAsync(connection, sql, RowsOf, ct);

    static T ScalarOf<T>(DuckDBCommand command) =>
        (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);

    static List<object?[]> RowsOf(DuckDBCommand command)
    {
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Runs <paramref name="work"/> on a command for <paramref name="sql"/> off the caller's thread; cancellation interrupts the query.</summary>
    static async Task<T> RunAsync<T>(DuckDBConnection connection, string sql, Func<DuckDBCommand, T> work, CancellationToken ct)
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
            return await Task.Run(() => work(command), CancellationToken.None);
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
