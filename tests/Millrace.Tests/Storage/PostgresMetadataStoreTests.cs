using Millrace.Storage;
using Npgsql;

namespace Millrace.Tests.Storage;

/// <summary>
/// The store contract against PostgreSQL: each test gets a fresh database on the server named by
/// <c>MILLRACE_TEST_POSTGRES</c> (an Npgsql connection string; ./test.sh starts a throwaway server and sets it).
/// Without it, every test here reports itself skipped.
/// </summary>
public sealed class PostgresMetadataStoreTests : MetadataStoreContract
{
    /// <summary>The test server, or null when none is configured.</summary>
    public static string? Server => Environment.GetEnvironmentVariable("MILLRACE_TEST_POSTGRES");

    readonly string _database = "millrace_test_" + Guid.NewGuid().ToString("N")[..12];

    protected override async Task<IMetadataStore> CreateStoreAsync()
    {
        Skip.If(Server is null, "MILLRACE_TEST_POSTGRES is not set: ./test.sh starts PostgreSQL on loopback and sets it");
        await using (var admin = new NpgsqlConnection(Server))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {_database}", admin);
            await create.ExecuteNonQueryAsync();
        }
        var builder = new NpgsqlConnectionStringBuilder(Server) { Database = _database };
        return await PostgresMetadataStore.OpenAsync(builder.ConnectionString, CancellationToken.None);
    }

    protected override async Task DeleteStoreAsync()
    {
        if (Server is null) return;
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(Server);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }

    [SkippableFact]
    public void A_postgres_url_becomes_an_npgsql_connection_string()
    {
        var text = PostgresMetadataStore.ToConnectionString("postgres://mill:s%40cret@db.internal:6543/millrace?SSL%20Mode=Disable");
        var builder = new NpgsqlConnectionStringBuilder(text);
        Assert.Equal("db.internal", builder.Host);
        Assert.Equal(6543, builder.Port);
        Assert.Equal("millrace", builder.Database);
        Assert.Equal("mill", builder.Username);
        Assert.Equal("s@cret", builder.Password);
        Assert.Equal(SslMode.Disable, builder.SslMode);
    }
}
