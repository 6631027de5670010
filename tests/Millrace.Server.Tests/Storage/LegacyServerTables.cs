using Millrace.Storage.Sql;

namespace Millrace.Server.Tests.Storage;

/// <summary>
/// The server tables of a store made by an earlier version: the frozen DDL of <c>Legacy/{dialect}/0005_server_tables.sql</c>
/// (what the library's migration 0005 created before the server had a migration stream of its own).
/// </summary>
static class LegacyServerTables
{
    public static async Task CreateAsync(SqlDatabase database)
    {
        var name = $"Millrace.Server.Tests.Storage.Legacy.{database.Dialect}.0005_server_tables.sql";
        await using var resource = typeof(LegacyServerTables).Assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"no resource {name}");
        using var reader = new StreamReader(resource);
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await SqlHelper.ExecuteAsync(connection, null, await reader.ReadToEndAsync(), CancellationToken.None);
    }
}
