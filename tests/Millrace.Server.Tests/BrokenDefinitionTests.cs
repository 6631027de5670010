using System.Net;
using System.Text.Json;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;

namespace Millrace.Server.Tests;

/// <summary>
/// A served project whose files become malformed or hold extreme durations: validate answers 200 with the located
/// errors, reload 422 with them and keeps the definitions it had; never 500.
/// </summary>
[Trait("Category", "Security")]
public sealed class BrokenDefinitionTests : IAsyncLifetime
{
    readonly ProjectFolder _project = Samples.Prediction(new ProjectFolder("churn"));
    TestServer _server = null!;
    HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(_project);
        _admin = _server.Client(await _server.TokenAsync("churn", TokenRole.Admin));
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
        _project.Dispose();
    }

    public static TheoryData<string, string, string, string> Broken => new()
    {
        { "workflows/score.yaml", "name: score\nsteps:\n  - { id: a, type: sql, sql: SELECT 1 }\nx: { a: 1, b: 2\ny: 3\n", "invalid YAML", "workflows/score.yaml" },
        { "workflows/score.yaml", "name: score\nsteps: " + new string('[', 5000) + "\n", "nest more than 64 levels", "workflows/score.yaml" },
        { "workflows/extra.yaml", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n", "with its aliases expanded", "workflows/extra.yaml" },
        { "pipelines/prediction.yaml", "name: prediction\nworkflows: [score]\ntimeout: 99999999d\n", "field 'timeout' must be at most 7d", "pipelines/prediction.yaml" },
        { "pipelines/prediction.yaml", "name: prediction\nworkflows: [score]\ntimeout: NaNd\n", "field 'timeout' must be a duration", "pipelines/prediction.yaml" },
        { "pipelines/prediction.yaml", "name: prediction\nworkflows: [score]\nretries: { attempts: 1, backoff: 99999999d }\n", "field 'backoff' must be at most 1d", "pipelines/prediction.yaml" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public async Task Validate_and_reload_answer_with_the_located_errors_never_500(string file, string content, string message, string errorFile)
    {
        _project.File(file, content);

        var validate = await _admin.GetAsync("/api/v1/projects/churn/validate");
        var (reload, reloadBody) = await _admin.PostAsync("/api/v1/projects/churn/reload", "");

        Assert.Equal(HttpStatusCode.OK, validate.StatusCode);
        var validation = JsonDocument.Parse(await validate.Content.ReadAsStringAsync()).RootElement;
        Assert.False(validation.GetProperty("valid").GetBoolean());
        foreach (var body in new[] { validation, reloadBody })
        {
            var error = Assert.Single(body.GetProperty("errors").EnumerateArray(), e => e.GetProperty("message").GetString()!.Contains(message, StringComparison.Ordinal));
            Assert.Equal(errorFile, error.GetProperty("file").GetString());
            Assert.True(error.GetProperty("line").GetInt32() >= 1, error.ToString());
        }
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reload.StatusCode);
        var pipeline = await _admin.GetJsonAsync("/api/v1/projects/churn/pipelines/prediction");
        Assert.Equal(JsonValueKind.Null, pipeline.GetProperty("pipeline").GetProperty("timeoutSeconds").ValueKind);
    }
}
