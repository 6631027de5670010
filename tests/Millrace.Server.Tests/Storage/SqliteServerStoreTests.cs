using Millrace.Storage;

namespace Millrace.Server.Tests.Storage;

/// <summary>The server store contract on the embedded SQLite store, one database file per test.</summary>
public sealed class SqliteServerStoreTests : ServerStoreContract
{
    readonly string _folder = Path.Combine(Path.GetTempPath(), "millrace-server-tests", "server-store-" + Guid.NewGuid().ToString("N"));

    protected override async Task<IMetadataStore> CreateMetadataStoreAsync() =>
        await SqliteMetadataStore.OpenAsync(Path.Combine(_folder, "millrace.db"), CancellationToken.None);

    protected override Task DeleteStoreAsync()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }
}
