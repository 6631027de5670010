using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Millrace.Storage.Sql;

/// <summary>
/// One SQLite file: WAL journal so readers never block the writer, a busy timeout so concurrent writers (parallel
/// steps, a second CLI) wait rather than fail, and <c>BEGIN IMMEDIATE</c> for write transactions.
/// </summary>
public sealed class SqliteDatabase : SqlDatabase
{
    readonly string _connectionString;

    /// <summary>The busy timeout of <c>MILLRACE_STORE_BUSY_TIMEOUT_MS</c> (milliseconds) when set, else 60 s.</summary>
    public static TimeSpan DefaultBusyTimeout =>
#pragma warning disable RS0030 // An operator's documented knob (docs/operations.md), read where a store is opened without one.
        int.TryParse(Environment.GetEnvironmentVariable("MILLRACE_STORE_BUSY_TIMEOUT_MS"), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0
#pragma warning restore RS0030
            ? TimeSpan.FromMilliseconds(ms) : TimeSpan.FromSeconds(60);

    /// <summary>
    /// The database in the file <paramref name="path"/> (its folder is created; the file is created on first use); a
    /// write waits up to <paramref name="busyTimeout"/> for another connection's write lock before it fails.
    /// </summary>
    public SqliteDatabase(string path, TimeSpan busyTimeout)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        BusyTimeout = busyTimeout;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = (int)Math.Ceiling(busyTimeout.TotalSeconds) }.ToString();
        FilePath = path;
    }

    /// <summary>The database file.</summary>
    public string FilePath { get; }

    /// <summary>How long a write waits for another connection's lock.</summary>
    public TimeSpan BusyTimeout { get; }

    /// <summary>
    /// The most pages the file may grow to (SQLite's <c>max_page_count</c>, set on every connection); null for no
    /// limit. A write that needs more fails as on a full disk: how the tests fill the disk.
    /// </summary>
    public long? MaxPageCount { get; set; }

    public override string Dialect => "Sqlite";

    public override async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct);
        await using var pragma = connection.CreateCommand();
        var limit = MaxPageCount is { } pages ? string.Create(CultureInfo.InvariantCulture, $" PRAGMA max_page_count = {pages};") : "";
        pragma.CommandText = string.Create(CultureInfo.InvariantCulture,
            $"PRAGMA journal_mode = WAL; PRAGMA busy_timeout = {(long)BusyTimeout.TotalMilliseconds}; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;{limit}");
        await pragma.ExecuteNonQueryAsync(ct);
        return connection;
    }

    public override Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct) =>
        // BEGIN IMMEDIATE takes the write lock now, so a read-then-write transaction cannot deadlock with another writer.
        Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: false));

    public override bool IsUniqueViolation(DbException e) => e is SqliteException { SqliteErrorCode: 19 };

    public override ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        return base.DisposeAsync();
    }
}
