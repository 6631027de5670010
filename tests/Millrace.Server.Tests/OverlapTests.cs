using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;

namespace Millrace.Server.Tests;

/// <summary>
/// A request for a pipeline that already has max_active runs queued or running waits (on_overlap: queue) or is
/// recorded as skipped (on_overlap: skip); the global limit holds runs of other pipelines in the queue too.
/// </summary>
public sealed class OverlapTests : IAsyncLifetime
{
    readonly string _gate = TestSteps.NewGate();
    readonly ProjectFolder _project = new("churn");
    TestServer _server = null!;
    HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _project.Workflow("slow", $"name: slow\nsteps:\n  - id: wait\n    type: gate\n    gate: {_gate}\n")
            .Workflow("quick", "name: quick\nsteps:\n  - id: one\n    type: sql\n    sql: SELECT 1 AS n\n")
            .Pipeline("free", "name: free\nworkflows: [quick]\n")
            .Pipeline("queued", "name: queued\nworkflows: [slow]\nconcurrency: { max_active: 1, on_overlap: queue }\n")
            .Pipeline("skipped", "name: skipped\nworkflows: [slow]\nconcurrency: { max_active: 1, on_overlap: skip }\n");
        _server = await TestServer.StartAsync(_project, o => o with { MaxConcurrentRuns = 4 });
        _client = _server.Client(await _server.TokenAsync("churn", TokenRole.Runner));
    }

    public async Task DisposeAsync()
    {
        TestSteps.Open(_gate);
        _client.Dispose();
        await _server.DisposeAsync();
        _project.Dispose();
    }

    async Task<string> StatusAsync(JsonElementHolder run) => (await _client.GetJsonAsync(run.StatusUrl)).Status();

    sealed record JsonElementHolder(string RunId, string StatusUrl);

    async Task<JsonElementHolder> ExecuteAsync(string pipeline)
    {
        var accepted = await _client.ExecuteAsync("churn", pipeline);
        return new JsonElementHolder(accepted.GetProperty("runId").GetString()!, accepted.GetProperty("statusUrl").GetString()!);
    }

    [Fact]
    public async Task With_on_overlap_queue_a_second_run_waits_until_the_first_ends()
    {
        var first = await ExecuteAsync("queued");
        await TestServer.EventuallyAsync(async () => await StatusAsync(first) == "running", TimeSpan.FromSeconds(10), "the first run starts");

        var second = await ExecuteAsync("queued");
        // A run of another pipeline queued behind the second one: once it has run, the executor has passed over the
        // second one with its limit reached, and left it queued.
        var behind = await ExecuteAsync("free");
        Assert.Equal("succeeded", (await TestServer.WaitForRunAsync(_client, behind.StatusUrl)).Status());
        Assert.Equal("queued", await StatusAsync(second));

        TestSteps.Open(_gate);
        var firstDetail = await TestServer.WaitForRunAsync(_client, first.StatusUrl);
        var secondDetail = await TestServer.WaitForRunAsync(_client, second.StatusUrl);
        Assert.Equal("succeeded", firstDetail.Status());
        Assert.Equal("succeeded", secondDetail.Status());
        Assert.True(secondDetail.GetProperty("run").GetProperty("startedAt").GetDateTimeOffset() >= firstDetail.GetProperty("run").GetProperty("endedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task With_on_overlap_skip_a_second_run_is_recorded_skipped_with_the_reason()
    {
        var first = await ExecuteAsync("skipped");
        var accepted = await _client.ExecuteAsync("churn", "skipped");

        Assert.Equal("skipped", accepted.GetProperty("status").GetString());
        Assert.Contains("on_overlap: skip", accepted.GetProperty("error").GetString());
        var skipped = await _client.GetJsonAsync(accepted.GetProperty("statusUrl").GetString()!);
        Assert.Equal("skipped", skipped.Status());
        Assert.Empty(skipped.GetProperty("steps").EnumerateArray());

        TestSteps.Open(_gate);
        Assert.Equal("succeeded", (await TestServer.WaitForRunAsync(_client, first.StatusUrl)).Status());
        var third = await ExecuteAsync("skipped");
        Assert.Equal("succeeded", (await TestServer.WaitForRunAsync(_client, third.StatusUrl)).Status());
    }

    [Fact]
    public async Task The_global_limit_keeps_runs_queued_across_pipelines()
    {
        await using var limited = await TestServer.StartAsync(new ProjectFolder("limited")
            .Workflow("slow", $"name: slow\nsteps:\n  - id: wait\n    type: gate\n    gate: {_gate}\n")
            .Pipeline("a", "name: a\nworkflows: [slow]\n").Pipeline("b", "name: b\nworkflows: [slow]\n"), o => o with { MaxConcurrentRuns = 1 });
        using var client = limited.Client(await limited.TokenAsync("limited", TokenRole.Runner));
        var a = await client.ExecuteAsync("limited", "a");
        var b = await client.ExecuteAsync("limited", "b");
        await TestServer.EventuallyAsync(async () => (await client.GetJsonAsync(a.GetProperty("statusUrl").GetString()!)).Status() == "running", TimeSpan.FromSeconds(10), "a starts");
        Assert.Equal("queued", (await client.GetJsonAsync(b.GetProperty("statusUrl").GetString()!)).Status());
        var health = await limited.Anonymous.GetJsonAsync("/healthz");
        Assert.Equal(1, health.GetProperty("queuedRuns").GetInt32());
        Assert.Equal(1, health.GetProperty("runningRuns").GetInt32());
        TestSteps.Open(_gate);
        var aDetail = await TestServer.WaitForRunAsync(client, a.GetProperty("statusUrl").GetString()!);
        var bDetail = await TestServer.WaitForRunAsync(client, b.GetProperty("statusUrl").GetString()!);
        Assert.Equal(("succeeded", "succeeded"), (aDetail.Status(), bDetail.Status()));
        // What proves b waited (not a snapshot of its status): it started only once a had ended, and a ended only
        // once the gate opened.
        Assert.True(bDetail.GetProperty("run").GetProperty("startedAt").GetDateTimeOffset() >= aDetail.GetProperty("run").GetProperty("endedAt").GetDateTimeOffset());
    }
}
