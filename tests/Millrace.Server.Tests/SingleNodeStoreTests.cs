using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;

namespace Millrace.Server.Tests;

/// <summary>A SQLite store is single-node: a second server on it is refused, naming the one that holds it.</summary>
[Trait("Category", "Security")]
public sealed class SingleNodeStoreTests : IDisposable
{
    readonly ProjectFolder _churn = Samples.Prediction(new ProjectFolder("churn"));
    readonly ProjectFolder _other = Samples.Prediction(new ProjectFolder("other"));

    public void Dispose()
    {
        _churn.Dispose();
        _other.Dispose();
    }

    [Fact]
    public async Task A_second_server_on_the_same_sqlite_store_is_refused_with_the_holder_named()
    {
        await using var first = await TestServer.StartAsync(_churn);

        var e = await Assert.ThrowsAsync<ServerStartException>(() => TestServer.StartAsync(_churn));

        Assert.Contains("another millrace serve already serves its SQLite store", e.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_churn.Directory, ".millrace", "millrace.db"), e.Message, StringComparison.Ordinal);
        Assert.Contains($"pid {Environment.ProcessId}", e.Message, StringComparison.Ordinal);
        Assert.Contains("PostgreSQL", e.Message, StringComparison.Ordinal);
        // The refused server opened nothing that stays: the first still serves, and its nodes list only itself.
        using var viewer = first.Client(await first.TokenAsync("churn", TokenRole.Viewer));
        var nodes = await viewer.GetJsonAsync("/api/v1/projects/churn/nodes");
        Assert.Equal(1, nodes.GetArrayLength());
    }

    [Fact]
    public async Task A_server_with_several_projects_is_refused_when_one_store_is_held_and_leaves_the_others_free()
    {
        await using (var first = await TestServer.StartAsync(_churn))
        {
            await Assert.ThrowsAsync<ServerStartException>(() => TestServer.StartAsync([_other.Directory, _churn.Directory]));
            // The refused server let go of the store it had locked before it met the held one.
            await using var other = await TestServer.StartAsync(_other);
        }
    }

    [Fact]
    public async Task Once_the_first_server_stops_another_may_serve_the_store()
    {
        await using (var first = await TestServer.StartAsync(_churn)) { }

        await using var second = await TestServer.StartAsync(_churn);

        Assert.NotNull(second.Host("churn"));
    }
}
