using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>401 for a missing or bad token, 403 for a token of another project or a role that does not allow the call.</summary>
public sealed class AuthenticationTests : IAsyncLifetime
{
    readonly ProjectFolder _churn = Samples.Prediction(new ProjectFolder("churn"));
    readonly ProjectFolder _other = Samples.Prediction(new ProjectFolder("other"));
    // The server's clock: token expiry is a matter of advancing it, not of waiting.
    readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync([_churn.Directory, _other.Directory], o => o with { Clock = _clock });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _churn.Dispose();
        _other.Dispose();
    }

    const string Execute = "/executePipeline?pipelineName=prediction&projectId=churn";
    const string Body = """{"workflowParameters": "--var region = north"}""";

    static async Task<string> DetailAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString()!;

    [Fact]
    public async Task A_missing_token_is_401_with_a_problem_that_says_how_to_send_one()
    {
        var (response, problem) = await _server.Anonymous.PostAsync(Execute, Body);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("token", problem.GetProperty("detail").GetString());
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
    }

    [Theory]
    [InlineData("not-a-token")]
    [InlineData("mr_0123456789abcdef_wrongsecret")]
    public async Task A_malformed_or_unknown_token_is_401(string token)
    {
        using var client = _server.Client(token);

        var (response, _) = await client.PostAsync(Execute, Body);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task The_right_token_id_with_a_wrong_secret_is_401()
    {
        var good = await _server.TokenAsync("churn", TokenRole.Admin);
        using var client = _server.Client(good[..^3] + (good[^3..] == "AAA" ? "BBB" : "AAA"));

        var (response, _) = await client.PostAsync(Execute, Body);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("invalid token", await DetailAsync(response));
    }

    [Fact]
    public async Task A_revoked_token_is_401_from_the_moment_it_is_revoked()
    {
        var token = await _server.TokenAsync("churn", TokenRole.Runner);
        using var client = _server.Client(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/projects/churn/runs")).StatusCode);

        var id = token.Split('_')[1];
        Assert.True(await _server.Host("churn").ServerStore.RevokeTokenAsync(id, _clock.GetUtcNow(), CancellationToken.None));

        var response = await client.GetAsync("/api/v1/projects/churn/runs");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("revoked", await DetailAsync(response));
    }

    [Fact]
    public async Task An_expired_token_is_401()
    {
        using var client = _server.Client(await _server.TokenAsync("churn", TokenRole.Runner, lifetime: TimeSpan.FromMinutes(1)));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/projects/churn/runs")).StatusCode);
        _clock.Advance(TimeSpan.FromMinutes(1));

        var response = await client.GetAsync("/api/v1/projects/churn/runs");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("expired", await DetailAsync(response));
    }

    [Fact]
    public async Task A_token_of_another_project_is_403_and_the_denial_is_audited()
    {
        using var client = _server.Client(await _server.TokenAsync("other", TokenRole.Admin));

        var (response, problem) = await client.PostAsync(Execute, Body);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("for project 'other', not 'churn'", problem.GetProperty("detail").GetString());
        var audit = await _server.Host("churn").ServerStore.FindAuditAsync(new Page(0, 10), CancellationToken.None);
        Assert.Contains(audit, a => a.Action == "POST /executePipeline" && a.Outcome == 403 && a.Actor.StartsWith("token:", StringComparison.Ordinal));
        Assert.Empty(await _server.Host("churn").Store.FindRunsAsync(new RunFilter(), new Page(), CancellationToken.None));
    }

    [Fact]
    public async Task A_viewer_may_read_but_not_run_and_a_runner_may_not_pause_schedules()
    {
        using var viewer = _server.Client(await _server.TokenAsync("churn", TokenRole.Viewer));
        using var runner = _server.Client(await _server.TokenAsync("churn", TokenRole.Runner));

        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/v1/projects/churn/pipelines")).StatusCode);
        var (denied, problem) = await viewer.PostAsync(Execute, Body);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Contains("role viewer", problem.GetProperty("detail").GetString());
        var (pause, _) = await runner.PostAsync("/api/v1/projects/churn/schedules/prediction/pause", "");
        Assert.Equal(HttpStatusCode.Forbidden, pause.StatusCode);
        var (audit, _) = await runner.PostAsync(Execute, Body);
        Assert.Equal(HttpStatusCode.OK, audit.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await runner.GetAsync("/api/v1/projects/churn/audit")).StatusCode);
    }
}
