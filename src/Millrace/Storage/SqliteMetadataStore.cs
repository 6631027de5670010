using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Millrace.Storage;

/// <summary>
/// The embedded default store: one SQLite file (<c>.millrace/millrace.db</c> in the project), WAL journal so readers
/// never block the writer, and a busy timeout so concurrent writers (parallel steps, a second CLI) wait, not fail.
/// </summary>
public sealed class SqliteMetadataStore : SqlMetadataStore
{
    readonly string _connectionString;

    /// <summary>
    /// Opens (creating if needed) the store in the file <paramref name="path"/>, with the busy timeout of
    /// <c>MILLRACE_STORE_BUSY_TIMEOUT_MS</c> (milliseconds) when set, else 60 s.
    /// </summary>
    public SqliteMetadataStore(string path) : this(path, DefaultBusyTimeout) { }

    static TimeSpan DefaultBusyTimeout =>
        int.TryParse(Environment.GetEnvironmentVariable("MILLRACE_STORE_BUSY_TIMEOUT_MS"), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0
            ? TimeSpan.FromMilliseconds(ms) : TimeSpan.FromSeconds(60);

    /// <summary>
    /// Opens the store in <paramref name="path"/>; a write waits up to <paramref name="busyTimeout"/> for another
    /// connection's write lock before it fails (the default is 60 s; tests shorten it).
    /// </summary>
    public SqliteMetadataStore(string path, TimeSpan busyTimeout)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        BusyTimeout = busyTimeout;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = (int)Math.Ceiling(busyTimeout.TotalSeconds) }.ToString();
        DatabasePath = path;
    }

    /// <summary>The database file.</summary>
    public string DatabasePath { get; }

    /// <summary>How long a write waits for another connection's lock.</summary>
    public TimeSpan BusyTimeout { get; }

    /// <summary>
    /// The most pages the file may grow to (SQLite's <c>max_page_count</c>, set on every connection); null for no
    /// limit. A write that needs more fails as on a full disk: how the tests fill the disk.
    /// </summary>
    public long? MaxPageCount { get; set; }

    /// <summary>Opens, checks and migrates the store at <paramref name="path"/>; a damaged file throws <see cref="StoreUnavailableException"/>.</summary>
    public static async Task<SqliteMetadataStore> OpenAsync(string path, CancellationToken ct)
    {
        var store = new SqliteMetadataStore(path);
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
        await using var connection = await OpenAsync(ct);
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

    protected override string MigrationsFolder => "Sqlite";

    protected override async Task<DbConnection> OpenAsync(CancellationToken ct)
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
