extern alias cli;

using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;
using CliApp = cli::Millrace.Cli.CliApp;

namespace Millrace.Server.Tests;

/// <summary>
/// <c>millrace run</c> next to a server on the same store obeys the pipeline's policy as the server does: with
/// <c>max_active: 1</c> it waits while the server runs the pipeline (or is recorded skipped with <c>--no-wait</c> or
/// <c>on_overlap: skip</c>), the server's queued run waits for a CLI run, and <c>retries:</c> hold for CLI runs.
/// </summary>
public sealed class CliBesideServerTests : IAsyncLifetime
{
    readonly string _gate = TestSteps.NewGate();
    readonly string _counter = "counter_" + Guid.NewGuid().ToString("N")[..8];
    readonly ProjectFolder _project = new("churn");
    TestServer _server = null!;
    HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _project.Workflow("slow", $"name: slow\nsteps:\n  - id: wait\n    type: gate\n    gate: {_gate}\n")
            .Workflow("unstable", $"name: unstable\nsteps:\n  - id: shaky\n    type: flaky\n    counter: {_counter}\n    failures: 1\n")
            .Pipeline("queued", "name: queued\nworkflows: [slow]\nconcurrency: { max_active: 1, on_overlap: queue }\n")
            .Pipeline("skipped", "name: skipped\nworkflows: [slow]\nconcurrency: { max_active: 1, on_overlap: skip }\n")
            .Pipeline("retried", "name: retried\nworkflows: [unstable]\nretries: { attempts: 2, backoff: 0s }\n");
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

    /// <summary>A CLI invocation running in this process, with what it has written so far.</summary>
    sealed class Cli
    {
        readonly StringWriter _output = new();
        readonly StringWriter _error = new();
        readonly TextWriter _syncOutput;
        readonly TextWriter _syncError;

        public Cli(string project, params string[] args)
        {
            (_syncOutput, _syncError) = (TextWriter.Synchronized(_output), TextWriter.Synchronized(_error));
            Exit = Task.Run(() => CliApp.RunAsync([.. args, "-p", project], _syncOutput, _syncError, catalog: TestSteps.Catalog));
        }

        public Task<int> Exit { get; }

        // The synchronized writers lock themselves while writing.
        public string Output { get { lock (_syncOutput) return _output.ToString(); } }
        public string Error { get { lock (_syncError) return _error.ToString(); } }

        public override string ToString() => $"--- stdout ---\n{Output}--- stderr ---\n{Error}";
    }

    IMetadataStore Store => _server.Host("churn").Store;

    async Task<IReadOnlyList<Run>> RunsAsync(string target) =>
        (await Store.FindRunsAsync(new RunFilter(Target: target), new Page(), CancellationToken.None)).OrderBy(r => r.CreatedAt).ToList();

    async Task<string> ServerRunningAsync(string pipeline)
    {
        var accepted = await _client.ExecuteAsync("churn", pipeline);
        var statusUrl = accepted.GetProperty("statusUrl").GetString()!;
        await TestServer.EventuallyAsync(async () => (await _client.GetJsonAsync(statusUrl)).Status() == "running", TimeSpan.FromSeconds(20), "the server's run starts");
        return statusUrl;
    }

    [Fact]
    public async Task A_cli_run_of_a_max_active_1_pipeline_waits_while_the_server_runs_it_and_starts_after_it_ends()
    {
        var statusUrl = await ServerRunningAsync("queued");

        var cli = new Cli(_project.Directory, "run", "queued");
        await TestServer.EventuallyAsync(() => Task.FromResult(cli.Error.Contains("waiting: pipeline 'queued' has 1 run(s) queued or running (concurrency: max_active 1)", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the CLI says it waits");
        Assert.False(cli.Exit.IsCompleted, cli.ToString());
        Assert.Single(await RunsAsync("queued")); // waiting records nothing: the server's run is the only one

        TestSteps.Open(_gate);
        Assert.True(await cli.Exit.WaitAsync(TimeSpan.FromSeconds(60)) == CliApp.Success, cli.ToString());
        var server = await TestServer.WaitForRunAsync(_client, statusUrl);
        var runs = await RunsAsync("queued");
        var mine = Assert.Single(runs, r => r.Trigger == TriggerKind.Cli);
        Assert.Equal(RunStatus.Succeeded, mine.Status);
        Assert.True(mine.StartedAt >= server.GetProperty("run").GetProperty("endedAt").GetDateTimeOffset(), "the CLI run started after the server's ended");
    }

    [Fact]
    public async Task With_no_wait_a_cli_run_of_a_busy_pipeline_is_recorded_skipped_and_exits_3()
    {
        await ServerRunningAsync("queued");

        var cli = new Cli(_project.Directory, "run", "queued", "--no-wait");

        Assert.True(await cli.Exit.WaitAsync(TimeSpan.FromSeconds(60)) == CliApp.Skipped, cli.ToString());
        var skipped = Assert.Single(await RunsAsync("queued"), r => r.Trigger == TriggerKind.Cli);
        Assert.Equal(RunStatus.Skipped, skipped.Status);
        Assert.Contains("already has 1 run(s) queued or running (concurrency: max_active 1, and the request was not to wait (--no-wait))", skipped.Error, StringComparison.Ordinal);
        Assert.Empty(await Store.GetStepRunsAsync(skipped.Id, CancellationToken.None));
    }

    [Fact]
    public async Task With_on_overlap_skip_a_cli_run_is_recorded_skipped_as_the_server_records_it()
    {
        await ServerRunningAsync("skipped");

        var cli = new Cli(_project.Directory, "run", "skipped");

        Assert.True(await cli.Exit.WaitAsync(TimeSpan.FromSeconds(60)) == CliApp.Skipped, cli.ToString());
        var skipped = Assert.Single(await RunsAsync("skipped"), r => r.Trigger == TriggerKind.Cli);
        Assert.Equal(RunStatus.Skipped, skipped.Status);
        Assert.Contains("(concurrency: max_active 1, on_overlap: skip)", skipped.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_servers_queued_run_waits_for_a_cli_run_of_the_pipeline()
    {
        var cli = new Cli(_project.Directory, "run", "queued");
        await TestServer.EventuallyAsync(async () => (await RunsAsync("queued")).Any(r => r.Status == RunStatus.Running), TimeSpan.FromSeconds(30), "the CLI run starts");

        var accepted = await _client.ExecuteAsync("churn", "queued");
        TestSteps.Open(_gate);

        Assert.True(await cli.Exit.WaitAsync(TimeSpan.FromSeconds(60)) == CliApp.Success, cli.ToString());
        var server = await TestServer.WaitForRunAsync(_client, accepted.GetProperty("statusUrl").GetString()!);
        Assert.Equal("succeeded", server.Status());
        var mine = Assert.Single(await RunsAsync("queued"), r => r.Trigger == TriggerKind.Cli);
        Assert.True(server.GetProperty("run").GetProperty("startedAt").GetDateTimeOffset() >= mine.EndedAt, "the server's run started after the CLI run ended");
    }

    [Fact]
    public async Task A_failed_cli_run_is_retried_per_its_pipelines_retries()
    {
        var cli = new Cli(_project.Directory, "run", "retried");

        Assert.True(await cli.Exit.WaitAsync(TimeSpan.FromSeconds(60)) == CliApp.Success, cli.ToString());
        var runs = await RunsAsync("retried");
        Assert.Equal([RunStatus.Failed, RunStatus.Succeeded], runs.Select(r => r.Status));
        Assert.Equal([TriggerKind.Cli, TriggerKind.Retry], runs.Select(r => r.Trigger));
        Assert.Equal(runs[0].Id, runs[1].ParentRunId);
        Assert.Contains($"retried as run {runs[1].Id}", cli.Output, StringComparison.Ordinal);
        Assert.Contains(await Store.GetLogsAsync(runs[0].Id, CancellationToken.None), l => l.Message.Contains($"retrying as run {runs[1].Id} (attempt 2 of 3)", StringComparison.Ordinal));
    }
}
