using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>
/// Clients are not turned away for their Content-Type: curl's <c>-d</c> (form encoding), <c>text/plain</c>, none at all
/// carry JSON like <c>application/json</c>. The token is checked first. <c>/executePipeline</c> answers what Sparkflows
/// clients expect: HTTP 200 with the run id as <c>id</c> and <c>executionId</c> (and the bare id for text/plain).
/// </summary>
[Trait("Category", "Security")]
public sealed class ClientCompatibilityTests : IAsyncLifetime
{
    const string Execute = "/executePipeline?pipelineName=prediction&projectId=churn";
    const string Runs = "/api/v1/projects/churn/pipelines/prediction/runs";
    const string Backfill = "/api/v1/projects/churn/pipelines/prediction/backfill";
    readonly ProjectFolder _project = Samples.Prediction(new ProjectFolder("churn"));
    TestServer _server = null!;
    HttpClient _runner = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(_project);
        _runner = _server.Client(await _server.TokenAsync("churn", TokenRole.Runner));
    }

    public async Task DisposeAsync()
    {
        _runner.Dispose();
        await _server.DisposeAsync();
        _project.Dispose();
    }

    static HttpContent Body(string text, string? contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        if (contentType is not null) content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    static async Task<(HttpResponseMessage Response, string Text)> PostAsync(HttpClient client, string url, string text, string? contentType, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = Body(text, contentType) };
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        var response = await client.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }

    public static TheoryData<string?> ContentTypes => new()
    {
        "application/x-www-form-urlencoded", // curl -d
        "text/plain",
        "text/plain; charset=utf-8",
        "application/octet-stream",
        "application/json; charset=utf-8",
        null,
    };

    [Theory]
    [MemberData(nameof(ContentTypes))]
    public async Task ExecutePipeline_takes_json_under_any_content_type_and_answers_200_with_the_sparkflows_fields(string? contentType)
    {
        var (response, text) = await PostAsync(_runner, Execute, """{"workflowParameters": "--var region = south"}""", contentType);

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        var json = JsonDocument.Parse(text).RootElement;
        var runId = json.GetProperty("runId").GetString()!;
        Assert.Equal(runId, json.GetProperty("id").GetString());
        Assert.Equal(runId, json.GetProperty("executionId").GetString());
        Assert.Equal("prediction", json.GetProperty("pipelineName").GetString());
        Assert.Equal(json.GetProperty("statusUrl").GetString(), response.Headers.Location?.ToString());
        var run = await _server.Host("churn").Store.GetRunAsync(runId, CancellationToken.None);
        Assert.Equal("south", run!.Parameters.Single(p => p.Key == "region").Value);
    }

    [Theory]
    [MemberData(nameof(ContentTypes))]
    public async Task Runs_and_backfill_take_json_under_any_content_type(string? contentType)
    {
        var (started, startedText) = await PostAsync(_runner, Runs, """{"parameters": {"region": "north"}}""", contentType);
        Assert.True(started.StatusCode == HttpStatusCode.Accepted, $"{(int)started.StatusCode}: {startedText}");

        var (backfill, backfillText) = await PostAsync(_runner, Backfill, """{"from": "2026-01-01", "to": "2026-01-02"}""", contentType);
        Assert.True(backfill.StatusCode == HttpStatusCode.Accepted, $"{(int)backfill.StatusCode}: {backfillText}");
        Assert.Equal(2, JsonDocument.Parse(backfillText).RootElement.GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public async Task A_client_that_accepts_only_text_gets_the_bare_run_id_as_sparkflows_answers()
    {
        var (response, text) = await PostAsync(_runner, Execute, """{"workflowParameters": ""}""", "application/x-www-form-urlencoded", accept: "text/plain");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(await _server.Host("churn").Store.GetRunAsync(text, CancellationToken.None));
    }

    [Theory]
    [InlineData(Execute)]
    [InlineData(Runs)]
    [InlineData(Backfill)]
    public async Task Without_a_token_any_content_type_gets_401_not_415(string url)
    {
        foreach (var contentType in new[] { "application/x-www-form-urlencoded", "text/plain", "image/png" })
        {
            var (response, text) = await PostAsync(_server.Anonymous, url, "not even json", contentType);

            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{contentType}: {(int)response.StatusCode} {text}");
            Assert.Contains("missing token", JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        Assert.Empty(await _server.Host("churn").Store.FindRunsAsync(new RunFilter(), new Page(), CancellationToken.None));
    }

    [Fact]
    public async Task A_form_encoded_body_that_is_not_json_is_a_400_saying_to_send_json()
    {
        var (response, text) = await PostAsync(_runner, Execute, "workflowParameters=--var+region%3Dnorth", "application/x-www-form-urlencoded");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not valid JSON", JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
