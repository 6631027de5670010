using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>
/// What calls without a valid token can make the server write is bounded: one entry per client and window plus a
/// summary that counts the rest, texts cut to a bounded length, nothing for a project this server does not host; and
/// the refusals that matter (a revoked, expired or guessed token, on reads too) are recorded.
/// </summary>
[Trait("Category", "Security")]
public sealed class RefusedCallAuditTests : IAsyncLifetime
{
    readonly ProjectFolder _churn = Samples.Prediction(new ProjectFolder("churn"));
    TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(_churn, o => o with { RefusalAuditWindow = TimeSpan.FromHours(1), RefusalAuditClients = 3 });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _churn.Dispose();
    }

    Task<IReadOnlyList<AuditEntry>> AuditAsync() => _server.Host("churn").ServerStore.FindAuditAsync(new Page(0, 10_000), CancellationToken.None);

    [Fact]
    public async Task Five_hundred_anonymous_posts_with_a_7_kb_route_value_write_one_bounded_entry()
    {
        var huge = new string('x', 7 * 1024);
        var store = Path.Combine(_churn.Directory, ".millrace", "millrace.db");
        for (var i = 0; i < 500; i++)
        {
            var (response, _) = await _server.Anonymous.PostAsync($"/api/v1/projects/churn/runs/{huge}{i}/retry", "{}");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        var audit = await AuditAsync();
        var entry = Assert.Single(audit);
        Assert.Equal("anonymous", entry.Actor);
        Assert.Equal(401, entry.Outcome);
        Assert.True(entry.Target!.Length < 400, $"the target is {entry.Target.Length} characters");
        Assert.Contains("characters)", entry.Target, StringComparison.Ordinal);
        Assert.Contains("missing token", entry.DetailsJson, StringComparison.Ordinal);
        Assert.True(new FileInfo(store).Length + (File.Exists(store + "-wal") ? new FileInfo(store + "-wal").Length : 0) < 2 * 1024 * 1024);
    }

    [Fact]
    public async Task A_refused_call_naming_a_project_this_server_does_not_host_writes_nothing()
    {
        var (response, _) = await _server.Anonymous.PostAsync($"/api/v1/projects/{new string('p', 7000)}/pipelines/prediction/runs", "{}");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var wrong = _server.Client("mr_0123456789abcdef_wrongsecret");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.PostAsync("/api/v1/projects/nowhere/pipelines/prediction/runs", "{}")).Response.StatusCode);

        Assert.Empty(await AuditAsync());
    }

    [Fact]
    public async Task A_valid_callers_long_values_are_cut_in_its_entry()
    {
        using var runner = _server.Client(await _server.TokenAsync("churn", TokenRole.Runner));
        var (response, _) = await runner.PostAsync($"/api/v1/projects/churn/runs/{new string('r', 7000)}/cancel", "{}");
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"answered {(int)response.StatusCode}");

        var entry = Assert.Single(await AuditAsync());
        Assert.StartsWith("token:", entry.Actor, StringComparison.Ordinal);
        Assert.True(entry.Target!.Length < 400);
    }

    [Fact]
    public async Task A_revoked_or_expired_token_is_audited_on_reads_too_and_names_the_token()
    {
        var revokedText = await _server.TokenAsync("churn", TokenRole.Runner);
        var revokedId = revokedText.Split('_')[1];
        await _server.Host("churn").ServerStore.RevokeTokenAsync(revokedId, DateTimeOffset.UtcNow, CancellationToken.None);
        var expiredText = await _server.TokenAsync("churn", TokenRole.Viewer, TimeSpan.FromMilliseconds(1));
        var expiredId = expiredText.Split('_')[1];
        await TestServer.EventuallyAsync(async () => (await _server.Host("churn").ServerStore.GetTokenAsync(expiredId, CancellationToken.None))!.ExpiresAt < DateTimeOffset.UtcNow,
            TimeSpan.FromSeconds(5), "the token expires");

        using var revoked = _server.Client(revokedText);
        using var expired = _server.Client(expiredText);
        Assert.Equal(HttpStatusCode.Unauthorized, (await revoked.GetAsync("/api/v1/projects/churn/runs")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await expired.GetAsync("/api/v1/projects")).StatusCode);
        // Naming no project: recorded in the token's own project.
        Assert.Equal(HttpStatusCode.Unauthorized, (await revoked.PostAsync("/executePipeline?pipelineName=prediction", "{}")).Response.StatusCode);

        var audit = await AuditAsync();
        Assert.Contains(audit, a => a.Actor.StartsWith($"token:{revokedId}", StringComparison.Ordinal) && a.Outcome == 401
            && a.Action.StartsWith("GET /api/v1/projects/{projectId}/runs", StringComparison.Ordinal) && a.DetailsJson!.Contains("revoked token", StringComparison.Ordinal));
        Assert.Contains(audit, a => a.Actor.StartsWith($"token:{expiredId}", StringComparison.Ordinal) && a.Outcome == 401 && a.DetailsJson!.Contains("expired token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_wrong_secret_for_a_known_token_is_audited_in_its_project()
    {
        var good = await _server.TokenAsync("churn", TokenRole.Admin);
        using var guess = _server.Client(good[..^3] + (good[^3..] == "AAA" ? "BBB" : "AAA"));

        Assert.Equal(HttpStatusCode.Unauthorized, (await guess.GetAsync("/api/v1/projects")).StatusCode);

        var entry = Assert.Single(await AuditAsync());
        Assert.Equal("anonymous", entry.Actor);
        Assert.Contains($"wrong secret for token {good.Split('_')[1]}", entry.DetailsJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_client_address_gets_one_entry_and_addresses_beyond_the_limit_share_the_projects_summary()
    {
        // 127.0.0.0/8 is loopback: five "clients", of which three (the limit here) get entries of their own.
        for (var client = 1; client <= 5; client++)
        {
            using var http = FromAddress(IPAddress.Parse($"127.0.0.{client + 10}"));
            for (var call = 0; call < 4; call++)
                Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("/executePipeline?pipelineName=prediction&projectId=churn", "{}")).Response.StatusCode);
        }

        var audit = await AuditAsync();
        Assert.Equal(3, audit.Count);
        Assert.Equal(3, audit.Select(a => a.RemoteAddress).Distinct().Count());
    }

    HttpClient FromAddress(IPAddress local) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            socket.Bind(new IPEndPoint(local, 0));
            await socket.ConnectAsync(context.DnsEndPoint, ct);
            return new NetworkStream(socket, ownsSocket: true);
        },
    }) { BaseAddress = _server.BaseAddress };
}

/// <summary>The refusals a window only counted are written when it ends: every refused call is accounted for.</summary>
[Trait("Category", "Security")]
public sealed class RefusedCallSummaryTests : IAsyncLifetime
{
    readonly ProjectFolder _churn = Samples.Prediction(new ProjectFolder("churn"));
    TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(_churn, o => o with { RefusalAuditWindow = TimeSpan.FromMilliseconds(400) });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _churn.Dispose();
    }

    [Fact]
    public async Task A_summary_entry_counts_the_refused_calls_that_had_no_entry_of_their_own()
    {
        const int calls = 40;
        for (var i = 0; i < calls; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Anonymous.PostAsync("/executePipeline?pipelineName=prediction&projectId=churn", "{}")).Response.StatusCode);

        var store = _server.Host("churn").ServerStore;
        var counted = 0;
        await TestServer.EventuallyAsync(async () =>
        {
            var audit = await store.FindAuditAsync(new Page(0, 1000), CancellationToken.None);
            counted = audit.Sum(a => a.Action == "refused calls" ? JsonDocument.Parse(a.DetailsJson!).RootElement.GetProperty("refused").GetInt32() : 1);
            return counted == calls;
        }, TimeSpan.FromSeconds(10), $"all {calls} refused calls are counted (so far {counted})");
        var entries = await store.FindAuditAsync(new Page(0, 1000), CancellationToken.None);
        Assert.True(entries.Count < calls / 2, $"{entries.Count} entries for {calls} refused calls");
    }
}
