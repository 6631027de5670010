using Npgsql;

namespace Millrace.Tests.TestSupport;

/// <summary>
/// A fresh database on the PostgreSQL server named by <c>MILLRACE_TEST_POSTGRES</c> (an Npgsql connection string;
/// ./test.sh starts a throwaway server on loopback and sets it), dropped on dispose. The test skips without it.
/// Shared by the store contract, the server's cluster tests and the CLI's failover test.
/// </summary>
public sealed class PostgresTestDatabase : IAsyncDisposable
{
    /// <summary>The test server, or null when none is configured.</summary>
    public static string? Server => Environment.GetEnvironmentVariable("MILLRACE_TEST_POSTGRES");

    readonly string _name;

    PostgresTestDatabase(string name, string connectionString)
    {
        _name = name;
        ConnectionString = connectionString;
    }

    /// <summary>The connection string of the new database.</summary>
    public string ConnectionString { get; }

    /// <summary>Creates a database named <paramref name="prefix"/> plus a unique suffix; skips the test without a server.</summary>
    public static async Task<PostgresTestDatabase> CreateAsync(string prefix)
    {
        Skip.If(Server is null, "MILLRACE_TEST_POSTGRES is not set: ./test.sh starts PostgreSQL on loopback and sets it");
        var name = prefix + "_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = new NpgsqlConnection(Server))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        return new PostgresTestDatabase(name, new NpgsqlConnectionStringBuilder(Server) { Database = name }.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(Server);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}
