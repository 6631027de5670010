using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Server.Tests.Storage;

/// <summary>
/// The server store contract on PostgreSQL: a fresh database per test on the server named by
/// <c>MILLRACE_TEST_POSTGRES</c> (./test.sh sets it); without it, every test here reports itself skipped.
/// </summary>
public sealed class PostgresServerStoreTests : ServerStoreContract
{
    PostgresTestDatabase? _database;

    protected override async Task<IMetadataStore> CreateMetadataStoreAsync()
    {
        _database = await PostgresTestDatabase.CreateAsync("millrace_server_test");
        return await PostgresMetadataStore.OpenAsync(_database.ConnectionString, CancellationToken.None);
    }

    protected override async Task DeleteStoreAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
    }
}
