using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>The Sparkflows Run Pipeline API with the exact body Sparkflows documents, end to end on a real pipeline.</summary>
public sealed class ExecutePipelineTests : IAsyncLifetime
{
    readonly ProjectFolder _project = Samples.Prediction(new ProjectFolder("churn"));
    TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(_project);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _project.Dispose();
    }

    [Fact]
    public async Task The_exact_Sparkflows_body_starts_the_pipeline_and_the_status_url_reports_success()
    {
        using var client = _server.Client(await _server.TokenAsync("churn", TokenRole.Runner));
        using var body = new StringContent("""{"workflowParameters": "--var region = north"}""", Encoding.UTF8, "application/json");

        var response = await client.PostAsync("/executePipeline?pipelineName=prediction&projectId=churn", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>(TestServer.Json);
        var statusUrl = accepted.GetProperty("statusUrl").GetString()!;
        Assert.Equal(statusUrl, response.Headers.Location!.ToString());
        Assert.StartsWith(_server.BaseAddress.ToString().TrimEnd('/') + "/api/v1/projects/churn/runs/", statusUrl);
        var detail = await TestServer.WaitForRunAsync(client, statusUrl);
        var run = detail.GetProperty("run");
        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        Assert.Equal(accepted.GetProperty("runId").GetString(), run.GetProperty("id").GetString());
        Assert.Equal("api", run.GetProperty("trigger").GetString());
        Assert.Equal("north", run.GetProperty("parameters").GetProperty("region").GetString());
        Assert.Contains(detail.GetProperty("steps").EnumerateArray(), s => s.GetProperty("stepId").GetString() == "scored" && s.GetProperty("rows").GetInt64() == 2);
        var written = Directory.GetFiles(_project.LakePath("predictions"), "*.csv", SearchOption.AllDirectories);
        Assert.Single(written);
        Assert.DoesNotContain("south", File.ReadAllText(written[0]));
    }

    [Fact]
    public async Task Bearer_tokens_several_vars_and_a_user_name_are_accepted_and_the_user_is_audited()
    {
        using var client = new HttpClient { BaseAddress = _server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", await _server.TokenAsync("churn", TokenRole.Runner));
        using var body = new StringContent("""{"workflowParameters": "--var region=south --var min_score = 0.5", "userName": "ops@example.com"}""", Encoding.UTF8, "application/json");

        var response = await client.PostAsync("/executePipeline?pipelineName=prediction&projectId=churn", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>(TestServer.Json);
        var run = (await TestServer.WaitForRunAsync(client, accepted.GetProperty("statusUrl").GetString()!)).GetProperty("run");
        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        Assert.Equal("0.5", run.GetProperty("parameters").GetProperty("min_score").GetString());
        var audit = await _server.Host("churn").ServerStore.FindAuditAsync(new Page(0, 10), CancellationToken.None);
        var entry = Assert.Single(audit, a => a.Action == "POST /executePipeline");
        Assert.Equal("ops@example.com", entry.UserName);
        Assert.Equal(200, entry.Outcome);
        Assert.StartsWith("token:", entry.Actor);
        Assert.Contains(accepted.GetProperty("runId").GetString()!, entry.DetailsJson);
    }
}
