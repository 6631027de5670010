using System.Net;
using System.Text.Json;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;

namespace Millrace.Server.Tests;

/// <summary>
/// A runner's parameter values are bounded, printable text on every API route, as on the CLI: a NUL or other control
/// character, or a value over 4,096 characters, is a 400 problem naming the parameter, and no run is recorded.
/// </summary>
[Trait("Category", "Security")]
public sealed class ParameterValueApiTests : IAsyncLifetime
{
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

    public static TheoryData<string, string, string> Requests => new()
    {
        { "/api/v1/projects/churn/pipelines/prediction/runs", JsonSerializer.Serialize(new { parameters = new { region = "north\0" } }), "U+0000" },
        { "/api/v1/projects/churn/pipelines/prediction/runs", JsonSerializer.Serialize(new { parameters = new { region = "no\nrth" } }), "U+000A" },
        { "/api/v1/projects/churn/pipelines/prediction/runs", JsonSerializer.Serialize(new { parameters = new { region = new string('n', 5000) } }), "at most 4,096" },
        { "/api/v1/projects/churn/pipelines/prediction/runs", JsonSerializer.Serialize(new { workflowParameters = "--var region=" + new string('n', 5000) }), "at most 4,096" },
        { "/executePipeline?pipelineName=prediction&projectId=churn", JsonSerializer.Serialize(new { workflowParameters = "--var region=\"a\u0001b\"" }), "U+0001" },
        { "/executePipeline?pipelineName=prediction&projectId=churn", JsonSerializer.Serialize(new { workflowParameters = "--var region=" + new string('n', 300 * 1024) }), "are accepted" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task A_hostile_value_is_a_400_problem_and_records_no_run(string url, string body, string expected)
    {
        var (response, problem) = await _runner.PostAsync(url, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("parameter", detail);
        Assert.Contains(expected, detail);
        Assert.True(detail.Length < 2000, "the detail does not echo the value");
        Assert.Empty((await _runner.GetJsonAsync("/api/v1/projects/churn/runs")).GetProperty("items").EnumerateArray());
    }
}
