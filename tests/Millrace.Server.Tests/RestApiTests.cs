using System.Net;
using System.Text.Json;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;

namespace Millrace.Server.Tests;

/// <summary>The REST API under /api/v1, the OpenAPI document and /healthz.</summary>
public sealed class RestApiTests : IAsyncLifetime
{
    readonly string _gate = TestSteps.NewGate();
    readonly ProjectFolder _project = Samples.Prediction(new ProjectFolder("churn"));
    TestServer _server = null!;
    HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _project.Workflow("snapshot", """
                name: snapshot
                steps:
                  - id: rows
                    type: sql
                    sql: SELECT range AS id, ${run.date} AS day FROM range(3)
                  - id: odd
                    type: anomaly
                    message: three rows is unusually few
                  - id: save
                    type: write
                    input: rows
                    dataset: daily
                """)
            .Workflow("waiting", $"name: waiting\nsteps:\n  - id: wait\n    type: gate\n    gate: {_gate}\n")
            .Pipeline("daily", "name: daily\nworkflows: [snapshot]\nschedule: { cron: \"0 6 * * *\", timezone: UTC }\nretries: { attempts: 1, backoff: 30s }\ntimeout: 1h\n")
            .Pipeline("blocked", "name: blocked\nworkflows: [waiting]\n");
        _server = await TestServer.StartAsync(_project, o => o with { MaxConcurrentRuns = 1 });
        _admin = _server.Client(await _server.TokenAsync("churn", TokenRole.Admin));
    }

    public async Task DisposeAsync()
    {
        TestSteps.Open(_gate);
        _admin.Dispose();
        await _server.DisposeAsync();
        _project.Dispose();
    }

    async Task<JsonElement> RunAsync(string pipeline, string body = "{}")
    {
        var (response, accepted) = await _admin.PostAsync($"/api/v1/projects/churn/pipelines/{pipeline}/runs", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await TestServer.WaitForRunAsync(_admin, accepted.GetProperty("statusUrl").GetString()!);
    }

    [Fact]
    public async Task Projects_pipelines_and_workflows_list_with_their_definitions_and_validate()
    {
        var projects = await _admin.GetJsonAsync("/api/v1/projects");
        Assert.Equal("churn", Assert.Single(projects.EnumerateArray()).GetProperty("id").GetString());
        var pipelines = await _admin.GetJsonAsync("/api/v1/projects/churn/pipelines");
        Assert.Equal(["blocked", "daily", "prediction"], pipelines.EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        var daily = await _admin.GetJsonAsync("/api/v1/projects/churn/pipelines/daily");
        Assert.Equal("0 6 * * *", daily.GetProperty("pipeline").GetProperty("schedule").GetProperty("cron").GetString());
        Assert.Equal(3600, daily.GetProperty("pipeline").GetProperty("timeoutSeconds").GetDouble());
        Assert.Equal(30, daily.GetProperty("pipeline").GetProperty("retryBackoffSeconds").GetDouble());
        Assert.Contains("workflows: [snapshot]", daily.GetProperty("source").GetString());
        var workflow = await _admin.GetJsonAsync("/api/v1/projects/churn/workflows/score");
        Assert.Equal(["customers", "scored", "out"], workflow.GetProperty("workflow").GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        Assert.True((await _admin.GetJsonAsync("/api/v1/projects/churn/validate")).GetProperty("valid").GetBoolean());

        _project.Workflow("score", "name: score\nsteps:\n  - id: x\n    type: sqll\n    sql: SELECT 1\n");
        var broken = await _admin.GetJsonAsync("/api/v1/projects/churn/pipelines/prediction/validate");
        Assert.False(broken.GetProperty("valid").GetBoolean());
        var error = Assert.Single(broken.GetProperty("errors").EnumerateArray());
        Assert.Equal(("workflows/score.yaml", 4), (error.GetProperty("file").GetString(), error.GetProperty("line").GetInt32()));
        Assert.True((await _admin.GetJsonAsync("/api/v1/projects/churn/pipelines/daily/validate")).GetProperty("valid").GetBoolean());
        var (reload, _) = await _admin.PostAsync("/api/v1/projects/churn/reload", "");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reload.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync("/api/v1/projects/churn/pipelines/nope")).StatusCode);
    }

    [Fact]
    public async Task Runs_list_with_filters_and_paging_and_a_run_shows_its_steps_and_logs()
    {
        var first = await RunAsync("prediction", """{"parameters": {"region": "north"}}""");
        var second = await RunAsync("prediction", """{"workflowParameters": "--var region = south --var run.date = 2026-02-01"}""");
        await RunAsync("daily");

        var page = await _admin.GetJsonAsync("/api/v1/projects/churn/runs?pipeline=prediction&limit=1");
        Assert.Equal(second.GetProperty("run").GetProperty("id").GetString(), Assert.Single(page.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(1, page.GetProperty("nextOffset").GetInt32());
        var next = await _admin.GetJsonAsync("/api/v1/projects/churn/runs?pipeline=prediction&limit=1&offset=1");
        Assert.Equal(first.GetProperty("run").GetProperty("id").GetString(), Assert.Single(next.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
        var byDate = await _admin.GetJsonAsync("/api/v1/projects/churn/runs?runDate=2026-02-01&status=succeeded");
        Assert.Single(byDate.GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.GetAsync("/api/v1/projects/churn/runs?status=happy")).StatusCode);

        Assert.Equal(["customers", "scored", "out"], first.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("stepId").GetString()));
        Assert.Equal("committed", first.GetProperty("workflows")[0].GetProperty("committedAt").ValueKind == JsonValueKind.String ? "committed" : "not");
        var url = first.GetProperty("run").GetProperty("url").GetString()!;
        var logs = await _admin.GetJsonAsync(url + "/logs");
        Assert.Contains(logs.EnumerateArray(), l => l.GetProperty("message").GetString()!.Contains("succeeded", StringComparison.Ordinal));
        var after = logs.EnumerateArray().First().GetProperty("seq").GetInt64();
        Assert.Equal(logs.GetArrayLength() - 1, (await _admin.GetJsonAsync(url + $"/logs?after={after}")).GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync("/api/v1/projects/churn/runs/20990101-000000-abcdef")).StatusCode);
    }

    [Fact]
    public async Task Cancel_stops_a_running_run_and_removes_a_queued_one_then_retry_and_rerun_queue_new_runs()
    {
        var (_, running) = await _admin.PostAsync("/api/v1/projects/churn/pipelines/blocked/runs", "{}");
        var (_, queued) = await _admin.PostAsync("/api/v1/projects/churn/pipelines/prediction/runs", "{}");
        await TestServer.EventuallyAsync(() => Task.FromResult(TestSteps.Reached(_gate) > 0), TimeSpan.FromSeconds(10), "the blocked run starts");

        var (cancelQueued, cancelled) = await _admin.PostAsync(queued.GetProperty("statusUrl").GetString() + "/cancel", "");
        Assert.Equal(HttpStatusCode.OK, cancelQueued.StatusCode);
        Assert.Equal("cancelled", cancelled.GetProperty("outcome").GetString());
        var (cancelRunning, stopping) = await _admin.PostAsync(running.GetProperty("statusUrl").GetString() + "/cancel", "");
        Assert.Equal(HttpStatusCode.Accepted, cancelRunning.StatusCode);
        Assert.Equal("stopping", stopping.GetProperty("outcome").GetString());
        var stopped = await TestServer.WaitForRunAsync(_admin, running.GetProperty("statusUrl").GetString()!);
        Assert.Equal("cancelled", stopped.Status());
        Assert.StartsWith("cancelled by token:", stopped.GetProperty("run").GetProperty("error").GetString());
        Assert.Equal("cancelled", (await _admin.GetJsonAsync(queued.GetProperty("statusUrl").GetString()!)).Status());
        var (again, _) = await _admin.PostAsync(queued.GetProperty("statusUrl").GetString() + "/cancel", "");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        var (retryResponse, retry) = await _admin.PostAsync(queued.GetProperty("statusUrl").GetString() + "/retry", "");
        Assert.Equal(HttpStatusCode.Accepted, retryResponse.StatusCode);
        var retried = await TestServer.WaitForRunAsync(_admin, retry.GetProperty("statusUrl").GetString()!);
        Assert.Equal(("succeeded", "retry"), (retried.Status(), retried.GetProperty("run").GetProperty("trigger").GetString()));
        var (conflict, problem) = await _admin.PostAsync(retried.GetProperty("run").GetProperty("url").GetString() + "/retry", "");
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Contains("only failed or cancelled runs can be retried", problem.GetProperty("detail").GetString());
        var (_, rerun) = await _admin.PostAsync(retried.GetProperty("run").GetProperty("url").GetString() + "/rerun", "");
        var rerunDetail = await TestServer.WaitForRunAsync(_admin, rerun.GetProperty("statusUrl").GetString()!);
        Assert.Equal(("succeeded", "rerun"), (rerunDetail.Status(), rerunDetail.GetProperty("run").GetProperty("trigger").GetString()));
        Assert.Equal(retried.GetProperty("run").GetProperty("runDate").GetString(), rerunDetail.GetProperty("run").GetProperty("runDate").GetString());
    }

    [Fact]
    public async Task Backfill_queues_one_run_per_date_skipping_succeeded_dates_and_datasets_and_anomalies_show_what_they_did()
    {
        var (response, backfill) = await _admin.PostAsync("/api/v1/projects/churn/pipelines/daily/backfill", """{"from": "2026-01-01", "to": "2026-01-03"}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var runs = backfill.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(3, runs.Count);
        foreach (var run in runs) Assert.Equal("succeeded", (await TestServer.WaitForRunAsync(_admin, run.GetProperty("statusUrl").GetString()!)).Status());
        var (_, second) = await _admin.PostAsync("/api/v1/projects/churn/pipelines/daily/backfill", """{"from": "2026-01-02", "to": "2026-01-04"}""");
        Assert.Equal(["2026-01-02", "2026-01-03"], second.GetProperty("skippedDates").EnumerateArray().Select(d => d.GetString()));
        await TestServer.WaitForRunAsync(_admin, Assert.Single(second.GetProperty("runs").EnumerateArray()).GetProperty("statusUrl").GetString()!);
        var (bad, _) = await _admin.PostAsync("/api/v1/projects/churn/pipelines/daily/backfill", """{"from": "2026-01-05", "to": "2026-01-01"}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        var datasets = await _admin.GetJsonAsync("/api/v1/projects/churn/datasets");
        var daily = Assert.Single(datasets.EnumerateArray());
        Assert.Equal(("daily", 4, 3L), (daily.GetProperty("dataset").GetString(), daily.GetProperty("version").GetInt32(), daily.GetProperty("rows").GetInt64()));
        var versions = await _admin.GetJsonAsync("/api/v1/projects/churn/datasets/daily/versions");
        Assert.Equal([4, 3, 2, 1], versions.EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
        Assert.Equal("day", (await _admin.GetJsonAsync("/api/v1/projects/churn/datasets/daily/versions/2")).GetProperty("schema")[1].GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync("/api/v1/projects/churn/datasets/nope/versions")).StatusCode);

        var anomalies = await _admin.GetJsonAsync("/api/v1/projects/churn/anomalies?limit=10");
        Assert.Equal(4, anomalies.GetArrayLength());
        var anomaly = anomalies[0];
        Assert.Equal(("volume", "warning", "three rows is unusually few"), (anomaly.GetProperty("kind").GetString(), anomaly.GetProperty("severity").GetString(), anomaly.GetProperty("message").GetString()));
        Assert.Equal(3, anomaly.GetProperty("details").GetProperty("rows").GetInt32());
        var ofRun = await _admin.GetJsonAsync($"/api/v1/projects/churn/anomalies?runId={runs[0].GetProperty("runId").GetString()}");
        Assert.Equal(1, ofRun.GetArrayLength());
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_the_endpoints_and_healthz_needs_no_token()
    {
        var document = await _server.Anonymous.GetJsonAsync("/openapi/v1.json");
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/executePipeline", "/api/v1/projects/{projectId}/runs/{runId}", "/api/v1/projects/{projectId}/schedules/{pipeline}/pause", "/api/v1/projects/{projectId}/pipelines/{name}/backfill" })
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is in the OpenAPI document");
        Assert.True(paths.GetProperty("/executePipeline").GetProperty("post").GetProperty("responses").TryGetProperty("200", out _));

        var health = await _server.Anonymous.GetJsonAsync("/healthz");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(["churn"], health.GetProperty("projects").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(_server.Node.Owner, health.GetProperty("node").GetString());
        Assert.False(health.GetProperty("clustered").GetBoolean());
        var audit = await _admin.GetJsonAsync("/api/v1/projects/churn/audit");
        Assert.Equal(0, audit.GetArrayLength());
    }
}
