using Millrace.Storage;
using Millrace.Tests.TestSupport;
using Npgsql;

namespace Millrace.Tests.Storage;

/// <summary>
/// The store contract against PostgreSQL: each test gets a fresh database on the server named by
/// <c>MILLRACE_TEST_POSTGRES</c> (an Npgsql connection string; ./test.sh starts a throwaway server and sets it).
/// Without it, every test here reports itself skipped.
/// </summary>
public sealed class PostgresMetadataStoreTests : MetadataStoreContract
{
    PostgresTestDatabase? _database;

    protected override async Task<IMetadataStore> CreateStoreAsync()
    {
        _database = await PostgresTestDatabase.CreateAsync("millrace_test");
        return await PostgresMetadataStore.OpenAsync(_database.ConnectionString, CancellationToken.None);
    }

    protected override async Task DeleteStoreAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
    }

    [SkippableFact]
    public void A_postgres_url_becomes_an_npgsql_connection_string()
    {
        var text = Millrace.Storage.Sql.PostgresDatabase.ToConnectionString("postgres://mill:s%40cret@db.internal:6543/millrace?SSL%20Mode=Disable");
        var builder = new NpgsqlConnectionStringBuilder(text);
        Assert.Equal("db.internal", builder.Host);
        Assert.Equal(6543, builder.Port);
        Assert.Equal("millrace", builder.Database);
        Assert.Equal("mill", builder.Username);
        Assert.Equal("s@cret", builder.Password);
        Assert.Equal(SslMode.Disable, builder.SslMode);
    }
}
