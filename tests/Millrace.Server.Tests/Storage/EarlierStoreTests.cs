using System.Net;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests.Storage;

/// <summary>A project whose store an earlier version made is served as before: its tokens still sign in.</summary>
public sealed class EarlierStoreTests : IDisposable
{
    readonly ProjectFolder _project = new ProjectFolder("earlier")
        .Workflow("tick", "name: tick\nsteps:\n  - id: now\n    type: sql\n    sql: SELECT 1 AS one\n")
        .Pipeline("once", "name: once\nworkflows: [tick]\n");

    public void Dispose() => _project.Dispose();

    [Fact]
    public async Task A_token_created_before_the_server_had_its_own_store_still_signs_in()
    {
        string secret;
        await using (var store = await SqliteMetadataStore.OpenAsync(Path.Combine(_project.Directory, ".millrace", "millrace.db"), CancellationToken.None))
        {
            await LegacyServerTables.CreateAsync(store.Database);
            (var token, secret) = ApiTokens.Create("earlier", TokenRole.Viewer, "old", null, DateTimeOffset.UtcNow);
            // Written into the earlier layout directly, before any server migration ran.
            await new ServerStore(store.Database).CreateTokenAsync(token, CancellationToken.None);
        }

        await using var server = await TestServer.StartAsync(_project);
        using var client = server.Client(secret);
        using var response = await client.GetAsync("/api/v1/projects/earlier/pipelines");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(await server.Host("earlier").ServerStore.ListTokensAsync(CancellationToken.None));
    }
}
