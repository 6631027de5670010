using System.Net;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>The same run key (Idempotency-Key header or runKey field) returns the same run and never starts a second.</summary>
public sealed class IdempotencyTests : IAsyncLifetime
{
    readonly ProjectFolder _project = Samples.Prediction(new ProjectFolder("churn"));
    TestServer _server = null!;
    HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(_project);
        _client = _server.Client(await _server.TokenAsync("churn", TokenRole.Runner));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
        _project.Dispose();
    }

    [Fact]
    public async Task The_same_idempotency_key_returns_the_same_run()
    {
        var first = await _client.ExecuteAsync("churn", "prediction", "--var region = north", idempotencyKey: "order-42");
        var second = await _client.ExecuteAsync("churn", "prediction", "--var region = north", idempotencyKey: "order-42");
        var other = await _client.ExecuteAsync("churn", "prediction", "--var region = north", idempotencyKey: "order-43");

        Assert.Equal(first.GetProperty("runId").GetString(), second.GetProperty("runId").GetString());
        Assert.False(first.GetProperty("duplicate").GetBoolean());
        Assert.True(second.GetProperty("duplicate").GetBoolean());
        Assert.NotEqual(first.GetProperty("runId").GetString(), other.GetProperty("runId").GetString());
        await TestServer.WaitForRunAsync(_client, first.GetProperty("statusUrl").GetString()!);
        await TestServer.WaitForRunAsync(_client, other.GetProperty("statusUrl").GetString()!);
        Assert.Equal(2, (await _server.Host("churn").Store.FindRunsAsync(new RunFilter(Target: "prediction"), new Page(), CancellationToken.None)).Count);
    }

    [Fact]
    public async Task The_runKey_field_works_like_the_header_and_concurrent_requests_with_one_key_make_one_run()
    {
        var requests = Enumerable.Range(0, 8).Select(_ => _client.PostAsync("/executePipeline?pipelineName=prediction&projectId=churn",
            """{"workflowParameters": "--var region = south", "runKey": "batch-7"}""")).ToList();
        var answers = await Task.WhenAll(requests);

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Response.StatusCode));
        Assert.Single(answers.Select(a => a.Json.GetProperty("runId").GetString()).Distinct());
        Assert.Single(answers, a => !a.Json.GetProperty("duplicate").GetBoolean());
        var (conflict, problem) = await PostWithHeaderAsync("""{"runKey": "a"}""", "b");
        Assert.Equal(HttpStatusCode.BadRequest, conflict.StatusCode);
        Assert.Contains("differ", problem.GetProperty("detail").GetString());
    }

    async Task<(HttpResponseMessage, System.Text.Json.JsonElement)> PostWithHeaderAsync(string body, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/executePipeline?pipelineName=prediction&projectId=churn") { Content = Http.Body(body) };
        request.Headers.Add("Idempotency-Key", key);
        var response = await _client.SendAsync(request);
        return (response, System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }
}
