using System.Net;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests.Ui;

/// <summary>
/// Sessions are bounded per token and per project, so one project's sign-ins cannot sign anyone of another project
/// out; failed sign-ins are audited.
/// </summary>
[Trait("Category", "Security")]
public sealed class UiSessionBoundTests : IAsyncLifetime
{
    readonly ProjectFolder _alpha = Samples.Prediction(new ProjectFolder("alpha"));
    readonly ProjectFolder _beta = Samples.Prediction(new ProjectFolder("beta"));
    TestServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await TestServer.StartAsync([_alpha.Directory, _beta.Directory], o => o with { UiSessionsPerToken = 3, UiSessionsPerProject = 5 });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _alpha.Dispose();
        _beta.Dispose();
    }

    async Task<UiClient> SignedInAsync(string token)
    {
        var client = new UiClient(_server.BaseAddress);
        Assert.Equal(HttpStatusCode.SeeOther, (await client.SignInAsync(token)).StatusCode);
        return client;
    }

    static async Task<bool> SignedInAsync(UiClient client, string project) =>
        (await client.GetAsync($"/ui/projects/{project}/runs")).Response.StatusCode == HttpStatusCode.OK;

    [Fact]
    public async Task Sign_ins_with_another_projects_token_never_sign_an_admin_out()
    {
        using var admin = await SignedInAsync(await _server.TokenAsync("alpha", TokenRole.Admin));
        var runner = await _server.TokenAsync("beta", TokenRole.Runner);
        var others = new List<UiClient>();
        try
        {
            for (var i = 0; i < 40; i++) others.Add(await SignedInAsync(runner));

            Assert.True(await SignedInAsync(admin, "alpha"), "the admin of alpha was signed out by beta's sign-ins");
            // The token's own oldest sessions made room; its newest three are live.
            Assert.False(await SignedInAsync(others[0], "beta"));
            foreach (var recent in others.TakeLast(3)) Assert.True(await SignedInAsync(recent, "beta"));
        }
        finally
        {
            foreach (var client in others) client.Dispose();
        }
    }

    [Fact]
    public async Task A_project_holds_at_most_its_limit_of_sessions_and_only_its_own_make_room()
    {
        using var beta = await SignedInAsync(await _server.TokenAsync("beta", TokenRole.Viewer));
        var clients = new List<UiClient>();
        try
        {
            for (var i = 0; i < 7; i++) clients.Add(await SignedInAsync(await _server.TokenAsync("alpha", TokenRole.Viewer)));

            var live = 0;
            foreach (var client in clients) live += await SignedInAsync(client, "alpha") ? 1 : 0;
            Assert.Equal(5, live);
            Assert.False(await SignedInAsync(clients[0], "alpha"));
            Assert.True(await SignedInAsync(beta, "beta"));
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
        }
    }

    [Fact]
    public async Task A_failed_sign_in_is_audited_in_the_project_of_the_token_it_named()
    {
        var good = await _server.TokenAsync("alpha", TokenRole.Admin);
        using var client = new UiClient(_server.BaseAddress);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SignInAsync(good[..^3] + (good[^3..] == "AAA" ? "BBB" : "AAA"))).StatusCode);

        var alpha = await _server.Host("alpha").ServerStore.FindAuditAsync(new Page(0, 50), CancellationToken.None);
        var entry = Assert.Single(alpha);
        Assert.Equal("POST /ui/login", entry.Action);
        Assert.Equal(401, entry.Outcome);
        Assert.Equal("web UI sign-in", entry.Target);
        Assert.Empty(await _server.Host("beta").ServerStore.FindAuditAsync(new Page(0, 50), CancellationToken.None));
    }

    [Fact]
    public async Task A_sign_in_with_a_revoked_token_is_audited_under_that_token()
    {
        var token = await _server.TokenAsync("beta", TokenRole.Runner);
        ApiTokensTestHelper.TryId(token, out var id);
        await _server.Host("beta").ServerStore.RevokeTokenAsync(id, DateTimeOffset.UtcNow, CancellationToken.None);
        using var client = new UiClient(_server.BaseAddress);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SignInAsync(token)).StatusCode);

        var entry = Assert.Single(await _server.Host("beta").ServerStore.FindAuditAsync(new Page(0, 50), CancellationToken.None));
        Assert.StartsWith($"token:{id}", entry.Actor, StringComparison.Ordinal);
        Assert.Contains("revoked token", entry.DetailsJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sign_in_with_an_unknown_token_is_audited_in_every_hosted_project()
    {
        using var client = new UiClient(_server.BaseAddress);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SignInAsync("mr_0123456789abcdef_nosuchsecret")).StatusCode);

        foreach (var project in new[] { "alpha", "beta" })
        {
            var entry = Assert.Single(await _server.Host(project).ServerStore.FindAuditAsync(new Page(0, 50), CancellationToken.None));
            Assert.Equal("anonymous", entry.Actor);
            Assert.Contains("unknown token", entry.DetailsJson, StringComparison.Ordinal);
        }
    }
}
