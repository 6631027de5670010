using System.Data.Common;
using System.Globalization;
using System.Reflection;

namespace Millrace.Storage.Sql;

/// <summary>
/// A numbered stream of SQL migrations embedded in <paramref name="Assembly"/> under
/// <c>{ResourcePrefix}.{dialect}.NNNN_name.sql</c>, and the table that records which of them a database has applied.
/// The library's store and the server's store each have their own stream in the same database.
/// </summary>
public sealed record MigrationStream(Assembly Assembly, string ResourcePrefix, string VersionTable);

/// <summary>
/// A database several nodes can share (PostgreSQL): a clustered job store (Quartz's) keeps its tables beside
/// Millrace's in it. <see cref="ConnectionString"/> is an Npgsql connection string, with its password.
/// </summary>
public sealed record SharedDatabase(string ConnectionString);

/// <summary>
/// One database the stores keep their tables in, and the thin part that differs per database: how to open a
/// connection, how a write transaction takes the write lock, how a unique-key violation shows. It also runs
/// migration streams. The store that opened it owns it; other stores on the same database (the server's) borrow it.
/// </summary>
public abstract class SqlDatabase : IAsyncDisposable
{
    /// <summary>The dialect's name: the folder of its migrations in every stream (<c>Sqlite</c>, <c>Postgres</c>).</summary>
    public abstract string Dialect { get; }

    /// <summary>
    /// The clock the stores on this database stamp what they record with (commit, publish and migration times):
    /// the host's, set when the store is opened (<see cref="TimeProvider.System"/> until then).
    /// </summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>Set when server nodes on several machines may share this database; null for an embedded file.</summary>
    public virtual SharedDatabase? Shared => null;

    /// <summary>Opens a connection ready for use.</summary>
    public abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>Starts a transaction that takes the write lock at once, so a read-check-write never interleaves with another writer's.</summary>
    public virtual async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct) =>
        await connection.BeginTransactionAsync(ct);

    /// <summary>True when <paramref name="e"/> is a unique or primary-key violation.</summary>
    public abstract bool IsUniqueViolation(DbException e);

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>True when the database holds <paramref name="table"/> (false for a new, empty database).</summary>
    public async Task<bool> HasTableAsync(string table, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        try
        {
            await using var command = SqlHelper.Command(connection, null, $"SELECT COUNT(*) FROM {table}");
            await command.ExecuteScalarAsync(ct);
            return true;
        }
        catch (DbException)
        {
            return false; // no such table
        }
    }

    /// <summary>
    /// Applies, in order and each in its own write transaction, the migrations of <paramref name="stream"/> that its
    /// version table does not list yet. Several processes may migrate at once: each migration is applied once.
    /// </summary>
    public async Task MigrateAsync(MigrationStream stream, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        var table = stream.VersionTable;
        await SqlHelper.ExecuteAsync(connection, null, $"CREATE TABLE IF NOT EXISTS {table} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)", ct);
        var applied = new HashSet<int>();
        await using (var command = SqlHelper.Command(connection, null, $"SELECT version FROM {table}"))
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) applied.Add(Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture));

        foreach (var (version, name, sql) in Migrations(stream))
        {
            if (applied.Contains(version)) continue;
            await using var transaction = await BeginWriteAsync(connection, ct);
            // Another process may have applied it while we waited for the lock.
            await using (var check = SqlHelper.Command(connection, transaction, $"SELECT COUNT(*) FROM {table} WHERE version = @v", ("v", version)))
                if (Convert.ToInt64(await check.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture) > 0) { await transaction.RollbackAsync(ct); continue; }
            await SqlHelper.ExecuteAsync(connection, transaction, sql, ct);
            await SqlHelper.ExecuteAsync(connection, transaction, $"INSERT INTO {table} (version, name, applied_at) VALUES (@v, @n, @t)", ct,
                ("v", version), ("n", name), ("t", SqlHelper.Time(Clock.GetUtcNow())));
            await transaction.CommitAsync(ct);
        }
    }

    /// <summary>The stream's migrations for this dialect, by version.</summary>
    IEnumerable<(int Version, string Name, string Sql)> Migrations(MigrationStream stream)
    {
        var prefix = $"{stream.ResourcePrefix}.{Dialect}.";
        foreach (var resource in stream.Assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var name = resource[prefix.Length..];
            var version = int.Parse(name[..name.IndexOf('_', StringComparison.Ordinal)].TrimStart('_'), CultureInfo.InvariantCulture);
            using var resourceStream = stream.Assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(resourceStream);
            yield return (version, name, reader.ReadToEnd());
        }
    }
}
