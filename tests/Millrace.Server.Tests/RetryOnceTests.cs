using System.Net;
using System.Text.Json;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Server.Tests.Ui;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>
/// A failed run is resumed once: concurrent or later retries (API, web UI) all answer with the first retry's run, and
/// what the retry commits is committed once.
/// </summary>
[Trait("Category", "Security")]
public sealed class RetryOnceTests : IAsyncLifetime
{
    readonly string _counter = "counter_" + Guid.NewGuid().ToString("N")[..8];
    readonly ProjectFolder _project = new("churn");
    TestServer _server = null!;
    string _token = null!;

    public async Task InitializeAsync()
    {
        // 'unstable' fails its first execution only; 'append' writes one file per run that gets past it.
        _project
            .Workflow("unstable", $"name: unstable\nsteps:\n  - id: shaky\n    type: flaky\n    counter: {_counter}\n    failures: 1\n")
            .Workflow("append", "name: append\nsteps:\n  - id: numbers\n    type: sql\n    sql: SELECT 1 AS n\n  - id: save\n    type: write\n    input: numbers\n    path: out/append-${run.id}.csv\n    format: csv\n")
            .Pipeline("once", "name: once\nworkflows: [unstable, append]\nretries: { attempts: 0, backoff: 1s }\n");
        _server = await TestServer.StartAsync(_project);
        _token = await _server.TokenAsync("churn", TokenRole.Runner);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _project.Dispose();
    }

    async Task<string> FailedRunAsync()
    {
        using var client = _server.Client(_token);
        var accepted = await client.ExecuteAsync("churn", "once");
        var detail = await TestServer.WaitForRunAsync(client, accepted.GetProperty("statusUrl").GetString()!);
        Assert.Equal("failed", detail.Status());
        return accepted.GetProperty("runId").GetString()!;
    }

    async Task<IReadOnlyList<Run>> RetriesOfAsync(string runId) =>
        (await _server.Host("churn").Store.FindRunsAsync(new RunFilter(Target: "once"), new Page(0, 100), CancellationToken.None))
            .Where(r => r.ParentRunId == runId).ToList();

    string[] Appended() => Directory.Exists(_project.LakePath("out")) ? Directory.GetFiles(_project.LakePath("out")) : [];

    [Fact]
    public async Task Concurrent_retries_over_the_api_resume_the_run_once_and_all_answer_with_that_run()
    {
        var failed = await FailedRunAsync();
        var clients = Enumerable.Range(0, 6).Select(_ => _server.Client(_token)).ToList();
        try
        {
            using var start = new Barrier(clients.Count);
            var answers = await Task.WhenAll(clients.Select(c => Task.Run(async () =>
            {
                start.SignalAndWait(TimeSpan.FromSeconds(10));
                return await c.PostAsync($"/api/v1/projects/churn/runs/{failed}/retry", "");
            })));

            Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.Response.StatusCode));
            var runIds = answers.Select(a => a.Json.GetProperty("runId").GetString()).Distinct().ToList();
            var retryId = Assert.Single(runIds)!;
            Assert.Single(answers, a => !a.Json.GetProperty("duplicate").GetBoolean());
            var detail = await TestServer.WaitForRunAsync(clients[0], answers[0].Json.GetProperty("statusUrl").GetString()!);
            Assert.Equal("succeeded", detail.Status());
            Assert.Equal(retryId, Assert.Single(await RetriesOfAsync(failed)).Id);
            Assert.Single(Appended());

            // Later, the same: the first retry's run, nothing new.
            var (late, json) = await clients[0].PostAsync($"/api/v1/projects/churn/runs/{failed}/retry", "");
            Assert.Equal(HttpStatusCode.Accepted, late.StatusCode);
            Assert.Equal(retryId, json.GetProperty("runId").GetString());
            Assert.True(json.GetProperty("duplicate").GetBoolean());
            Assert.Equal("succeeded", json.GetProperty("status").GetString());
            Assert.Single(await RetriesOfAsync(failed));
            Assert.Single(Appended());
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
        }
    }

    [Fact]
    public async Task The_web_uis_retry_button_pressed_twice_at_once_resumes_the_run_once()
    {
        var failed = await FailedRunAsync();
        using var ui = new UiClient(_server.BaseAddress);
        Assert.Equal(HttpStatusCode.SeeOther, (await ui.SignInAsync(_token)).StatusCode);
        var (_, page) = await ui.GetAsync($"/ui/projects/churn/runs/{failed}");
        var csrf = UiClient.Csrf(page);

        var presses = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ui.PostAsync($"/ui/projects/churn/runs/{failed}/retry", [new("csrf", csrf)])));

        var retry = Assert.Single(await RetriesOfAsync(failed));
        Assert.All(presses, p => Assert.Equal(HttpStatusCode.SeeOther, p.Response.StatusCode));
        Assert.All(presses, p => Assert.Equal($"/ui/projects/churn/runs/{retry.Id}", p.Response.Headers.Location?.OriginalString));
        using var client = _server.Client(_token);
        Assert.Equal("succeeded", (await TestServer.WaitForRunAsync(client, $"/api/v1/projects/churn/runs/{retry.Id}")).Status());
        Assert.Single(Appended());
        var (later, _) = await ui.PostAsync($"/ui/projects/churn/runs/{failed}/retry", [new("csrf", csrf)]);
        Assert.Equal($"/ui/projects/churn/runs/{retry.Id}", later.Headers.Location?.OriginalString);
        var (_, shown) = await ui.GetAsync($"/ui/projects/churn/runs/{retry.Id}");
        Assert.Contains($"was already retried as run {retry.Id}", shown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rerun_is_not_a_retry_and_is_a_new_run_each_time()
    {
        var failed = await FailedRunAsync();
        using var client = _server.Client(_token);
        var (first, json) = await client.PostAsync($"/api/v1/projects/churn/runs/{failed}/retry", "");
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var retryId = json.GetProperty("runId").GetString()!;

        // A rerun is a new run every time, and is not a retry.
        var (rerun, rerunJson) = await client.PostAsync($"/api/v1/projects/churn/runs/{failed}/rerun", "");

        Assert.Equal(HttpStatusCode.Accepted, rerun.StatusCode);
        Assert.NotEqual(retryId, rerunJson.GetProperty("runId").GetString());
        Assert.False(rerunJson.GetProperty("duplicate").GetBoolean());
        Assert.Equal(JsonValueKind.String, rerunJson.GetProperty("statusUrl").ValueKind);
    }
}
