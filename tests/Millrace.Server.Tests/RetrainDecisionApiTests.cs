using System.Net;
using System.Text.Json;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;

namespace Millrace.Server.Tests;

/// <summary>
/// GET run shows the run's retrain decision (<c>retrain: { asked, reason, runId }</c>): a drifted run that asked for
/// a training names the training run the server queued; a run of a pipeline without <c>retrain_when</c> has none. A
/// viewer may read it; nobody sends it (it is the server's record of its own decision).
/// </summary>
public sealed class RetrainDecisionApiTests : IAsyncLifetime
{
    const string Project = "retrain";
    readonly ProjectFolder _project = new ProjectFolder(Project)
        .LakeFile("raw/reference.csv", "x\n" + string.Join("\n", Enumerable.Range(0, 200).Select(i => (i % 20).ToString(System.Globalization.CultureInfo.InvariantCulture))) + "\n")
        .Workflow("score", """
            name: score
            steps:
              - { id: reference, type: read, path: raw/reference.csv }
              - id: batch
                type: sql
                inputs: [reference]
                sql: SELECT x + 15 AS x FROM reference
              - id: drift
                type: drift
                inputs: [batch, reference]
            """)
        .Workflow("retrain", "name: retrain\nsteps:\n  - { id: marker, type: sql, sql: \"SELECT 1 AS trained\" }\n")
        .Pipeline("daily", "name: daily\nworkflows: [score]\nretrain_when: { drift: 0.3, cooldown: 1d, pipeline: training }\n")
        .Pipeline("training", "name: training\nworkflows: [retrain]\n");
    TestServer _server = null!;
    HttpClient _runner = null!;
    HttpClient _viewer = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(_project);
        _runner = _server.Client(await _server.TokenAsync(Project, TokenRole.Runner));
        _viewer = _server.Client(await _server.TokenAsync(Project, TokenRole.Viewer));
    }

    public async Task DisposeAsync()
    {
        _runner.Dispose();
        _viewer.Dispose();
        await _server.DisposeAsync();
        _project.Dispose();
    }

    async Task<string> RunAsync(string pipeline)
    {
        var (response, accepted) = await _runner.PostAsync($"/api/v1/projects/{Project}/pipelines/{pipeline}/runs", """{"parameters":{"run.date":"2026-01-02"}}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await TestServer.WaitForRunAsync(_runner, accepted.GetProperty("statusUrl").GetString()!)).GetProperty("run").GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task A_drifted_run_shows_that_it_asked_for_a_training_and_which_run_and_a_plain_run_shows_none()
    {
        var drifted = await RunAsync("daily");
        JsonElement retrain = default;
        await TestServer.EventuallyAsync(async () =>
        {
            retrain = (await _viewer.GetJsonAsync($"/api/v1/projects/{Project}/runs/{drifted}")).GetProperty("retrain");
            return retrain.ValueKind == JsonValueKind.Object && retrain.GetProperty("runId").ValueKind == JsonValueKind.String;
        }, TimeSpan.FromSeconds(60), "the retrain decision with its training run");
        Assert.True(retrain.GetProperty("asked").GetBoolean());
        Assert.StartsWith("drift PSI", retrain.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var training = await _viewer.GetJsonAsync($"/api/v1/projects/{Project}/runs/{retrain.GetProperty("runId").GetString()}");
        Assert.Equal(("training", "drift"), (training.GetProperty("run").GetProperty("target").GetString(), training.GetProperty("run").GetProperty("trigger").GetString()));

        var plain = await RunAsync("training");
        Assert.Equal(JsonValueKind.Null, (await _viewer.GetJsonAsync($"/api/v1/projects/{Project}/runs/{plain}")).GetProperty("retrain").ValueKind);
    }
}
