using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Millrace.Storage;

/// <summary>
/// The embedded default store: one SQLite file (<c>.millrace/millrace.db</c> in the project), WAL journal so readers
/// never block the writer, and a busy timeout so concurrent writers (parallel steps, a second CLI) wait, not fail.
/// </summary>
public sealed class SqliteMetadataStore : SqlMetadataStore
{
    readonly string _connectionString;

    /// <summary>Opens (creating if needed) the store in the file <paramref name="path"/>.</summary>
    public SqliteMetadataStore(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 60 }.ToString();
        DatabasePath = path;
    }

    /// <summary>The database file.</summary>
    public string DatabasePath { get; }

    /// <summary>Opens and migrates the store at <paramref name="path"/>.</summary>
    public static async Task<SqliteMetadataStore> OpenAsync(string path, CancellationToken ct)
    {
        var store = new SqliteMetadataStore(path);
        await store.MigrateAsync(ct);
        return store;
    }

    protected override string MigrationsFolder => "Sqlite";

    protected override async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 60000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";
        await pragma.ExecuteNonQueryAsync(ct);
        return connection;
    }

    protected override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct)
    {
        // BEGIN IMMEDIATE takes the write lock now, so a read-then-write transaction cannot deadlock with another writer.
        var sqlite = (SqliteConnection)connection;
        return await Task.FromResult(sqlite.BeginTransaction(deferred: false));
    }

    protected override bool IsUniqueViolation(DbException e) =>
        e is SqliteException { SqliteErrorCode: 19 };

    public override ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        return base.DisposeAsync();
    }
}
