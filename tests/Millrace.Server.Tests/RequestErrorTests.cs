using System.Net;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>404 for an unknown pipeline or project; 400 naming the problem for malformed workflowParameters.</summary>
public sealed class RequestErrorTests : IAsyncLifetime
{
    readonly ProjectFolder _project = Samples.Prediction(new ProjectFolder("churn"));
    TestServer _server = null!;
    HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _project.Workflow("count", """
            name: count
            parameters: { days: { type: int, default: 7 } }
            steps:
              - id: numbers
                type: sql
                sql: SELECT range AS n FROM range($days)
            """).Pipeline("counting", "name: counting\nworkflows: [count]\n");
        _server = await TestServer.StartAsync(_project);
        _client = _server.Client(await _server.TokenAsync("churn", TokenRole.Runner));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
        _project.Dispose();
    }

    async Task<(HttpStatusCode Status, string Detail)> ExecuteAsync(string query, string body)
    {
        var (response, problem) = await _client.PostAsync("/executePipeline?" + query, body);
        return (response.StatusCode, problem.ValueKind == System.Text.Json.JsonValueKind.Object && problem.TryGetProperty("detail", out var d) ? d.GetString()! : "");
    }

    [Fact]
    public async Task An_unknown_pipeline_is_404_listing_the_pipelines()
    {
        var (status, detail) = await ExecuteAsync("pipelineName=predictoin&projectId=churn", """{"workflowParameters": ""}""");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("no pipeline 'predictoin'", detail);
        Assert.Contains("counting, prediction", detail);
    }

    [Fact]
    public async Task An_unknown_project_is_404()
    {
        var (status, detail) = await ExecuteAsync("pipelineName=prediction&projectId=nope", """{"workflowParameters": ""}""");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("no project 'nope'", detail);
    }

    [Fact]
    public async Task An_unknown_parameter_is_400_naming_it_and_the_declared_ones()
    {
        var (status, detail) = await ExecuteAsync("pipelineName=prediction&projectId=churn", """{"workflowParameters": "--var regoin = north"}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("workflowParameters: unknown parameter 'regoin'", detail);
        Assert.Contains("min_score, region", detail);
    }

    [Fact]
    public async Task A_value_of_the_wrong_type_is_400_naming_the_parameter()
    {
        var (status, detail) = await ExecuteAsync("pipelineName=counting&projectId=churn", """{"workflowParameters": "--var days = many"}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("parameter 'days'", detail);
        Assert.Contains("many", detail);
    }

    [Theory]
    [InlineData("""{"workflowParameters": "--var region \"north"}""", "unterminated")]
    [InlineData("""{"workflowParameters": "--var region north"}""", "has no '='")]
    [InlineData("""{"workflowParameters": "region = north"}""", "expected '--var NAME=VALUE'")]
    [InlineData("""{"workflowParameters": 42}""", "'workflowParameters' must be a string")]
    [InlineData("""{"workflowParameters": "--var region = north" """, "not valid JSON")]
    public async Task Malformed_parameters_or_bodies_are_400_saying_what_is_wrong(string body, string expected)
    {
        var (status, detail) = await ExecuteAsync("pipelineName=prediction&projectId=churn", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(expected, detail);
        Assert.Empty(await _server.Host("churn").Store.FindRunsAsync(new RunFilter(), new Page(), CancellationToken.None));
    }

    [Fact]
    public async Task A_missing_pipeline_name_is_400()
    {
        var (status, detail) = await ExecuteAsync("projectId=churn", "{}");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("pipelineName", detail);
    }

    [Fact]
    public async Task An_unknown_route_is_a_404_problem()
    {
        var response = await _client.GetAsync("/api/v1/nothing-here");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
