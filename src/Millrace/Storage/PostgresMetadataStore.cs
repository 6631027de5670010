using Millrace.Storage.Sql;

namespace Millrace.Storage;

/// <summary>
/// The metadata store on PostgreSQL, for several <c>millrace serve</c> nodes sharing one store: the same SQL as
/// SQLite (<see cref="SqlMetadataStore"/>) on a <see cref="PostgresDatabase"/>, with its own numbered migrations
/// (<c>Storage/Migrations/Postgres</c>).
/// </summary>
public sealed class PostgresMetadataStore(string connectionString) : SqlMetadataStore(new PostgresDatabase(connectionString))
{
    /// <summary>Opens and migrates the store on <paramref name="connectionString"/> (<c>postgres://…</c> or <c>Host=…</c>).</summary>
    public static async Task<PostgresMetadataStore> OpenAsync(string connectionString, CancellationToken ct)
    {
        var store = new PostgresMetadataStore(connectionString);
        try
        {
            await store.MigrateAsync(ct);
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
        return store;
    }
}
