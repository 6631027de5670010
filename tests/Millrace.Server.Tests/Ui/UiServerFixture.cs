using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;

namespace Millrace.Server.Tests.Ui;

/// <summary>One seeded server for the UI tests (pages, sign-in, browser), with a token of each role.</summary>
public sealed class UiServerFixture : IAsyncLifetime
{
    public ProjectFolder Project { get; } = UiProject.Create();
    public TestServer Server { get; private set; } = null!;
    public string Viewer { get; private set; } = "";
    public string Runner { get; private set; } = "";
    public string Admin { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync(Project);
        Viewer = await Server.TokenAsync(UiProject.Id, TokenRole.Viewer);
        Runner = await Server.TokenAsync(UiProject.Id, TokenRole.Runner);
        Admin = await Server.TokenAsync(UiProject.Id, TokenRole.Admin);
        await UiProject.SeedAsync(Server);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Project.Dispose();
    }

    public UiClient Client() => new(Server.BaseAddress);

    /// <summary>A client signed in with <paramref name="token"/>.</summary>
    public async Task<UiClient> SignedInAsync(string token)
    {
        var client = Client();
        var response = await client.SignInAsync(token);
        if ((int)response.StatusCode != 303) throw new InvalidOperationException($"sign-in answered {(int)response.StatusCode}");
        return client;
    }
}

/// <summary>The UI test classes share one seeded server (and run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class UiCollection : ICollectionFixture<UiServerFixture>
{
    public const string Name = "ui";
}
