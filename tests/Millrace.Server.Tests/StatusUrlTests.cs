using System.Net;
using System.Text;
using System.Text.Json;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;

namespace Millrace.Server.Tests;

/// <summary>The URLs answers carry start with the configured public URL or the server's own address, never the caller's Host header.</summary>
[Trait("Category", "Security")]
public sealed class StatusUrlTests : IDisposable
{
    readonly ProjectFolder _churn = Samples.Prediction(new ProjectFolder("churn"));

    public void Dispose() => _churn.Dispose();

    static async Task<(HttpResponseMessage Response, JsonElement Body)> ExecuteWithHostAsync(TestServer server, string host)
    {
        using var client = server.Client(await server.TokenAsync("churn", TokenRole.Runner));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/executePipeline?pipelineName=prediction&projectId=churn")
        {
            Content = new StringContent("""{"workflowParameters": "--var region=north"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Host = host;
        var response = await client.SendAsync(request);
        return (response, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task A_forged_host_header_does_not_reach_the_status_url()
    {
        await using var server = await TestServer.StartAsync(_churn);

        var (response, body) = await ExecuteWithHostAsync(server, "evil.example:666");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var statusUrl = body.GetProperty("statusUrl").GetString()!;
        Assert.DoesNotContain("evil.example", statusUrl, StringComparison.Ordinal);
        Assert.StartsWith(server.BaseAddress.ToString().TrimEnd('/') + "/api/v1/projects/churn/runs/", statusUrl, StringComparison.Ordinal);
        Assert.DoesNotContain("evil.example", response.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_public_url_is_used_when_configured()
    {
        await using var server = await TestServer.StartAsync(_churn, o => o with { PublicUrl = new Uri("https://millrace.example.com/ml/") });

        var (_, body) = await ExecuteWithHostAsync(server, "evil.example");

        Assert.StartsWith("https://millrace.example.com/ml/api/v1/projects/churn/runs/", body.GetProperty("statusUrl").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("https://millrace.example.com/ml/api/v1/projects/churn/runs/", body.GetProperty("logsUrl").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://millrace.example.com")]
    [InlineData("https://millrace.example.com/?x=1")]
    public async Task A_public_url_that_cannot_prefix_links_is_refused_at_start(string url)
    {
        var e = await Assert.ThrowsAsync<ServerStartException>(() => TestServer.StartAsync(_churn, o => o with { PublicUrl = new Uri(url) }));
        Assert.Contains("public URL must be an absolute http:// or https:// address", e.Message, StringComparison.Ordinal);
    }
}
