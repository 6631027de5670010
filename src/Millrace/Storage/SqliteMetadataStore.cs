using Microsoft.Data.Sqlite;
using Millrace.Storage.Sql;

namespace Millrace.Storage;

/// <summary>
/// The embedded default store: one SQLite file (<c>.millrace/millrace.db</c> in the project) on a
/// <see cref="SqliteDatabase"/> (WAL journal, busy timeout, <c>BEGIN IMMEDIATE</c> writes).
/// </summary>
public sealed class SqliteMetadataStore : SqlMetadataStore
{
    readonly SqliteDatabase _database;

    /// <summary>
    /// Opens (creating if needed) the store in the file <paramref name="path"/>, with the busy timeout of
    /// <c>MILLRACE_STORE_BUSY_TIMEOUT_MS</c> (milliseconds) when set, else 60 s.
    /// </summary>
    public SqliteMetadataStore(string path) : this(path, SqliteDatabase.DefaultBusyTimeout) { }

    /// <summary>
    /// Opens the store in <paramref name="path"/>; a write waits up to <paramref name="busyTimeout"/> for another
    /// connection's write lock before it fails (the default is 60 s; tests shorten it).
    /// </summary>
    public SqliteMetadataStore(string path, TimeSpan busyTimeout) : this(new SqliteDatabase(path, busyTimeout)) { }

    SqliteMetadataStore(SqliteDatabase database) : base(database) => _database = database;

    /// <summary>The database file.</summary>
    public string DatabasePath => _database.FilePath;

    /// <summary>How long a write waits for another connection's lock.</summary>
    public TimeSpan BusyTimeout => _database.BusyTimeout;

    /// <summary>The most pages the file may grow to (see <see cref="SqliteDatabase.MaxPageCount"/>); null for no limit.</summary>
    public long? MaxPageCount
    {
        get => _database.MaxPageCount;
        set => _database.MaxPageCount = value;
    }

    /// <summary>Opens, checks and migrates the store at <paramref name="path"/>; a damaged file throws <see cref="StoreUnavailableException"/>.</summary>
    public static async Task<SqliteMetadataStore> OpenAsync(string path, CancellationToken ct, TimeProvider? clock = null)
    {
        var store = new SqliteMetadataStore(path);
        store.Database.Clock = clock ?? TimeProvider.System;
        try
        {
            await store.CheckIntegrityAsync(ct);
            await store.MigrateAsync(ct);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 26 or 11) // SQLITE_NOTADB, SQLITE_CORRUPT
        {
            await store.DisposeAsync();
            throw store.Damaged(e.Message, e);
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
        return store;
    }

    /// <summary>
    /// Runs SQLite's <c>PRAGMA quick_check</c> and checks that a file with tables is a Millrace store (it has the
    /// migration table): a truncated, overwritten or foreign file is refused before anything reads or writes it.
    /// </summary>
    async Task CheckIntegrityAsync(CancellationToken ct)
    {
        await using var connection = await _database.OpenAsync(ct);
        await using (var check = connection.CreateCommand())
        {
            check.CommandText = "PRAGMA quick_check(5)";
            var problems = new List<string>();
            await using (var reader = await check.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct)) problems.Add(reader.GetString(0));
            if (problems is not ["ok"]) throw Damaged(string.Join("; ", problems), null);
        }
        await using var tables = connection.CreateCommand();
        tables.CommandText = "SELECT COUNT(*), COUNT(CASE WHEN name = 'schema_migrations' THEN 1 END) FROM sqlite_master WHERE type = 'table'";
        await using var counts = await tables.ExecuteReaderAsync(ct);
        await counts.ReadAsync(ct);
        if (counts.GetInt64(0) > 0 && counts.GetInt64(1) == 0)
            throw new StoreUnavailableException($"the store {DatabasePath} is an SQLite database but not a Millrace store (it has tables but no schema_migrations): point 'store:' at the project's store, or restore it from its backup (see docs/operations.md#backups)");
    }

    StoreUnavailableException Damaged(string problem, Exception? inner) => new(
        $"the store {DatabasePath} is damaged ({problem.Trim()}): restore it from its backup (see docs/operations.md#backups), then run 'millrace gc'. " +
        "Millrace does not repair or replace a damaged store; keep the damaged file for inspection", inner);
}
