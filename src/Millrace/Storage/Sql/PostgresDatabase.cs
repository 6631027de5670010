using System.Data.Common;
using Npgsql;

namespace Millrace.Storage.Sql;

/// <summary>
/// A PostgreSQL database that several <c>millrace serve</c> nodes share. Write transactions are serialized by a
/// transaction-scoped advisory lock, as SQLite's <c>BEGIN IMMEDIATE</c> serializes them: a commit's
/// read-check-write (dataset versions, watermarks, aliases) never interleaves with another's.
/// </summary>
public sealed class PostgresDatabase : SqlDatabase
{
    /// <summary>The advisory lock key every Millrace write transaction takes ('MLRC').</summary>
    const long WriteLock = 0x4D4C5243;

    readonly NpgsqlDataSource _dataSource;

    /// <summary>The database at <paramref name="connectionString"/> (<c>postgres://…</c> or <c>Host=…</c>).</summary>
    public PostgresDatabase(string connectionString)
    {
        ConnectionString = ToConnectionString(connectionString);
        _dataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    /// <summary>The Npgsql connection string, with its password.</summary>
    public string ConnectionString { get; }

    public override string Dialect => "Postgres";

    public override SharedDatabase Shared => new(ConnectionString);

    public override async Task<DbConnection> OpenAsync(CancellationToken ct) => await _dataSource.OpenConnectionAsync(ct);

    public override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct)
    {
        var transaction = await connection.BeginTransactionAsync(ct);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT pg_advisory_xact_lock({WriteLock})";
        await command.ExecuteNonQueryAsync(ct);
        return transaction;
    }

    public override bool IsUniqueViolation(DbException e) => e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public override async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>Accepts <c>postgres://user:password@host:port/database?k=v</c> as well as Npgsql's <c>Host=…;Database=…</c>.</summary>
    public static string ToConnectionString(string value)
    {
        if (!value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) && !value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            return value;
        var uri = new Uri(value);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1) builder.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            builder[Uri.UnescapeDataString(kv[0])] = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "";
        }
        return builder.ConnectionString;
    }
}
