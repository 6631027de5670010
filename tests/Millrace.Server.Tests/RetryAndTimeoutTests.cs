using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>retries: { attempts, backoff } retries failed runs from the failed workflow; timeout: fails a run that takes too long.</summary>
public sealed class RetryAndTimeoutTests : IAsyncLifetime
{
    readonly string _counter = "counter_" + Guid.NewGuid().ToString("N")[..8];
    readonly ProjectFolder _project = new("churn");
    TestServer _server = null!;
    HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _project
            .Workflow("first", "name: first\nsteps:\n  - id: numbers\n    type: sql\n    sql: SELECT 1 AS n\n  - id: save\n    type: write\n    input: numbers\n    path: out/first-${run.id}.csv\n    format: csv\n")
            .Workflow("unstable", $"name: unstable\nsteps:\n  - id: shaky\n    type: flaky\n    counter: {_counter}\n    failures: 2\n")
            .Workflow("slow", "name: slow\nsteps:\n  - id: nap\n    type: sleep\n    seconds: 30\n")
            .Pipeline("retried", "name: retried\nworkflows: [first, unstable]\nretries: { attempts: 2, backoff: 1s }\n")
            // Its run.failed webhook is recorded only once the executor has decided not to retry (a retried run notifies at its last attempt).
            .Pipeline("gives_up", $"name: gives_up\nworkflows: [unstable]\nretries: {{ attempts: 0, backoff: 1s }}\nnotify:\n  - {{ url: 'http://127.0.0.1:9/hook', on: [run.failed], secret: test-secret }}\n")
            .Pipeline("too_slow", "name: too_slow\nworkflows: [slow]\ntimeout: 1s\n");
        _server = await TestServer.StartAsync(_project);
        _client = _server.Client(await _server.TokenAsync("churn", TokenRole.Runner));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
        _project.Dispose();
    }

    [Fact]
    public async Task A_failed_run_is_retried_after_the_backoff_until_it_succeeds_without_redoing_committed_workflows()
    {
        var accepted = await _client.ExecuteAsync("churn", "retried");
        var store = _server.Host("churn").Store;

        await TestServer.EventuallyAsync(async () => (await store.FindRunsAsync(new RunFilter(Target: "retried", Status: RunStatus.Succeeded), new Page(), CancellationToken.None)).Count == 1,
            TimeSpan.FromSeconds(20), "a retry succeeds");

        var runs = (await store.FindRunsAsync(new RunFilter(Target: "retried"), new Page(), CancellationToken.None)).OrderBy(r => r.CreatedAt).ToList();
        Assert.Equal(3, runs.Count);
        Assert.Equal(accepted.GetProperty("runId").GetString(), runs[0].Id);
        Assert.Equal([RunStatus.Failed, RunStatus.Failed, RunStatus.Succeeded], runs.Select(r => r.Status));
        Assert.Equal([TriggerKind.Api, TriggerKind.Retry, TriggerKind.Retry], runs.Select(r => r.Trigger));
        Assert.Equal(runs[0].Id, runs[1].ParentRunId);
        Assert.Equal(runs[1].Id, runs[2].ParentRunId);
        Assert.True(runs[1].StartedAt - runs[0].EndedAt >= TimeSpan.FromSeconds(0.9), "the backoff is waited");
        Assert.Equal(3, (await store.GetRunRequestAsync(runs[2].Id, CancellationToken.None))!.Attempt);
        // The first workflow committed once; the retries reused its commit.
        Assert.Single(Directory.GetFiles(_project.LakePath("out")));
        Assert.Equal(RunStatus.Skipped, (await store.GetWorkflowRunsAsync(runs[2].Id, CancellationToken.None)).Single(w => w.Workflow == "first").Status);
        Assert.Contains(await store.GetLogsAsync(runs[0].Id, CancellationToken.None), l => l.Message.Contains($"retrying as run {runs[1].Id} (attempt 2 of 3)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_retries_a_failed_run_stays_failed()
    {
        var accepted = await _client.ExecuteAsync("churn", "gives_up");

        var detail = await TestServer.WaitForRunAsync(_client, accepted.GetProperty("statusUrl").GetString()!);

        Assert.Equal("failed", detail.Status());
        Assert.Contains("flaky failure 1 of 2", detail.GetProperty("run").GetProperty("error").GetString());
        using var admin = _server.Client(await _server.TokenAsync("churn", TokenRole.Admin));
        var runId = accepted.GetProperty("runId").GetString()!;
        // The run's end is handled (not retried, so its failure is notified): a retry would have been recorded before it.
        await TestServer.EventuallyAsync(async () => (await admin.GetJsonAsync($"/api/v1/projects/churn/notifications?runId={runId}")).GetArrayLength() > 0,
            TimeSpan.FromSeconds(10), "the executor handles the run's end");
        Assert.Single(await _server.Host("churn").Store.FindRunsAsync(new RunFilter(Target: "gives_up"), new Page(), CancellationToken.None));
    }

    [Fact]
    public async Task A_run_longer_than_its_timeout_fails_with_a_timeout_error()
    {
        var accepted = await _client.ExecuteAsync("churn", "too_slow");

        var detail = await TestServer.WaitForRunAsync(_client, accepted.GetProperty("statusUrl").GetString()!, TimeSpan.FromSeconds(15));

        var run = detail.GetProperty("run");
        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Contains("timed out", run.GetProperty("error").GetString());
        Assert.Contains("timeout of 1s", run.GetProperty("error").GetString());
        Assert.InRange(run.GetProperty("durationSeconds").GetDouble(), 0.9, 10);
    }
}
