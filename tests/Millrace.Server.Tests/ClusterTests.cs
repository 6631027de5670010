using System.Net;
using Millrace.Engine;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Tests.TestSupport;

namespace Millrace.Server.Tests;

/// <summary>
/// Two servers sharing one PostgreSQL store act as one: a run queued on a node that does not execute runs is executed
/// by the other, a cancel sent to either node stops the run wherever it executes, <c>on_overlap: skip</c> counts the
/// runs of both, and both report themselves clustered. Needs <c>MILLRACE_TEST_POSTGRES</c> (./test.sh starts a
/// server); skipped without it.
/// </summary>
public sealed class ClusterTests : IAsyncLifetime
{
    readonly string _gate = TestSteps.NewGate();
    static string? Server => PostgresTestDatabase.Server;
    PostgresTestDatabase? _database;
    ProjectFolder? _project;
    TestServer? _worker;
    TestServer? _front;

    public async Task InitializeAsync()
    {
        if (Server is null) return;
        _database = await PostgresTestDatabase.CreateAsync("millrace_cluster");
        var store = _database.ConnectionString;
        _project = new ProjectFolder("cluster", $"id: cluster\nstore: '{store}'\n")
            .Workflow("waiting", $"name: waiting\nsteps:\n  - id: wait\n    type: gate\n    gate: {_gate}\n")
            .Pipeline("blocked", "name: blocked\nworkflows: [waiting]\n")
            .Pipeline("single", "name: single\nworkflows: [waiting]\nconcurrency: { max_active: 1, on_overlap: skip }\n");
        // The worker executes runs; the front only takes requests (it runs none), as an API node in front of workers.
        // Each has its own node identity, as two processes would: one process does not make them one node.
        _worker = await TestServer.StartAsync(_project, o => o with { EnableScheduler = false, Node = NodeIdentity.Named("worker") });
        _front = await TestServer.StartAsync(_project, o => o with { EnableScheduler = false, MaxConcurrentRuns = 0, Node = NodeIdentity.Named("front") });
    }

    public async Task DisposeAsync()
    {
        TestSteps.Open(_gate);
        if (_front is not null) await _front.DisposeAsync();
        if (_worker is not null) await _worker.DisposeAsync();
        _project?.Dispose();
        if (_database is not null) await _database.DisposeAsync();
    }

    [SkippableFact]
    public async Task A_run_requested_on_one_node_runs_on_the_other_and_a_cancel_sent_to_the_first_stops_it()
    {
        Skip.If(Server is null, "MILLRACE_TEST_POSTGRES is not set: ./test.sh starts PostgreSQL on loopback and sets it");
        var front = _front!.Client(await _front.TokenAsync("cluster", TokenRole.Admin));

        var (accepted, run) = await front.PostAsync("/api/v1/projects/cluster/pipelines/blocked/runs", "{}");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        await TestServer.EventuallyAsync(() => Task.FromResult(TestSteps.Reached(_gate) > 0), TimeSpan.FromSeconds(20), "the worker starts the run the front queued");
        Assert.True(_worker!.Host("cluster").Store.Shared);
        // The node list shows who executes what: the worker runs it, the front none.
        var nodes = (await front.GetJsonAsync("/api/v1/projects/cluster/nodes")).EnumerateArray().ToDictionary(n => n.GetProperty("node").GetString()!);
        Assert.Equal([_front!.Node.Owner, _worker.Node.Owner], nodes.Keys.Order(StringComparer.Ordinal));
        Assert.All(nodes.Values, n => Assert.True(n.GetProperty("alive").GetBoolean()));
        Assert.Equal([run.GetProperty("runId").GetString()], nodes[_worker.Node.Owner].GetProperty("running").EnumerateArray().Select(r => r.GetString()));
        Assert.Empty(nodes[_front.Node.Owner].GetProperty("running").EnumerateArray());

        var (cancel, outcome) = await front.PostAsync(run.GetProperty("statusUrl").GetString() + "/cancel", "");

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal("stopping", outcome.GetProperty("outcome").GetString());
        var stopped = await TestServer.WaitForRunAsync(front, run.GetProperty("statusUrl").GetString()!, TimeSpan.FromSeconds(30));
        Assert.Equal("cancelled", stopped.Status());
        Assert.StartsWith("cancelled by token:", stopped.GetProperty("run").GetProperty("error").GetString());
        Assert.Contains("(through node", stopped.GetProperty("run").GetProperty("error").GetString());
    }

    [SkippableFact]
    public async Task On_overlap_skip_counts_the_runs_of_every_node()
    {
        Skip.If(Server is null, "MILLRACE_TEST_POSTGRES is not set: ./test.sh starts PostgreSQL on loopback and sets it");
        var worker = _worker!.Client(await _worker.TokenAsync("cluster", TokenRole.Admin));
        var front = _front!.Client(await _front.TokenAsync("cluster", TokenRole.Admin));
        var (_, first) = await worker.PostAsync("/api/v1/projects/cluster/pipelines/single/runs", "{}");
        await TestServer.EventuallyAsync(() => Task.FromResult(TestSteps.Reached(_gate) > 0), TimeSpan.FromSeconds(20), "the first run starts");

        var (_, second) = await front.PostAsync("/api/v1/projects/cluster/pipelines/single/runs", "{}");

        var skipped = await front.GetJsonAsync(second.GetProperty("statusUrl").GetString()!);
        Assert.Equal("skipped", skipped.Status());
        Assert.Contains("already has 1 run(s) queued or running", skipped.GetProperty("run").GetProperty("error").GetString());
        TestSteps.Open(_gate);
        Assert.Equal("succeeded", (await TestServer.WaitForRunAsync(worker, first.GetProperty("statusUrl").GetString()!, TimeSpan.FromSeconds(30))).Status());
    }

    [SkippableFact]
    public async Task Both_nodes_report_themselves_clustered()
    {
        Skip.If(Server is null, "MILLRACE_TEST_POSTGRES is not set: ./test.sh starts PostgreSQL on loopback and sets it");
        foreach (var server in new[] { _worker!, _front! })
            Assert.True((await server.Anonymous.GetJsonAsync("/healthz")).GetProperty("clustered").GetBoolean());
    }
}
