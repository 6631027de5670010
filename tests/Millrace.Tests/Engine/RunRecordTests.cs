using Millrace.Engine;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Engine;

public sealed class RunRecordTests : IAsyncLifetime
{
    readonly TestProject _project = new("shop");

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("prepare", """
            name: prepare
            parameters: { region: { type: string, default: all } }
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: north
                type: sql
                input: customers
                sql: SELECT * FROM customers WHERE region = $region
              - id: save
                type: write
                input: north
                dataset: north_customers
            """);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public async Task A_successful_run_is_recorded_with_its_request_and_definitions()
    {
        var before = DateTimeOffset.UtcNow;

        var run = await _project.RunAsync(new RunRequest("prepare", [new("region", "north")], TriggerKind.Api));

        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        var stored = await (await _project.StoreAsync()).GetRunAsync(run.Id, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(RunStatus.Succeeded, stored.Status);
        Assert.Equal(("shop", "prepare", "workflow", TriggerKind.Api), (stored.ProjectId, stored.Target, stored.TargetKind, stored.Trigger));
        Assert.Equal([new KeyValuePair<string, string>("region", "north")], stored.Parameters);
        Assert.Equal(_project.Open().DefinitionsHash, stored.DefinitionsHash);
        Assert.Null(stored.Error);
        Assert.InRange(stored.StartedAt!.Value, before.AddSeconds(-1), stored.EndedAt!.Value);
        Assert.Equal(DateOnly.FromDateTime(before.UtcDateTime), stored.RunDate);
    }

    [Fact]
    public async Task Every_step_is_recorded_with_its_kind_rows_and_timings()
    {
        var run = await _project.RunAsync("prepare", ("region", "north"));

        var steps = await _project.StepRunsAsync(run.Id);

        Assert.Equal(["customers", "north", "save"], steps.Select(s => s.StepId));
        Assert.Equal(["read", "sql", "write"], steps.Select(s => s.Kind));
        Assert.All(steps, s => Assert.Equal(RunStatus.Succeeded, s.Status));
        Assert.Equal([SampleData.Customers, SampleData.NorthCustomers, SampleData.NorthCustomers], steps.Select(s => s.Rows ?? -1));
        Assert.All(steps, s =>
        {
            Assert.NotNull(s.StartedAt);
            Assert.NotNull(s.EndedAt);
            Assert.True(s.Duration >= TimeSpan.Zero, $"{s.StepId} ended before it started");
        });
        // Dependent steps run after their inputs finish.
        Assert.True(steps[1].StartedAt >= steps[0].EndedAt);
        Assert.True(steps[2].StartedAt >= steps[1].EndedAt);
    }

    [Fact]
    public async Task The_workflow_run_is_recorded_as_committed()
    {
        var run = await _project.RunAsync("prepare");

        var workflow = Assert.Single(await (await _project.StoreAsync()).GetWorkflowRunsAsync(run.Id, CancellationToken.None));

        Assert.Equal(("prepare", 0, RunStatus.Succeeded), (workflow.Workflow, workflow.Position, workflow.Status));
        Assert.NotNull(workflow.CommittedAt);
    }

    [Fact]
    public async Task The_run_log_tells_the_story_in_order()
    {
        var run = await _project.RunAsync("prepare");

        var logs = await (await _project.StoreAsync()).GetLogsAsync(run.Id, CancellationToken.None);

        Assert.Equal(Enumerable.Range(1, logs.Count).Select(i => (long)i), logs.Select(l => l.Sequence));
        Assert.Contains("started", logs[0].Message);
        Assert.Contains("succeeded", logs[^1].Message);
        Assert.Contains(logs, l => l.StepId == "save" && l.Message.Contains("dataset 'north_customers' v1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Runs_are_listed_newest_first()
    {
        var first = await _project.RunAsync("prepare");
        var second = await _project.RunAsync("prepare");

        var runs = await (await _project.StoreAsync()).FindRunsAsync(new RunFilter(Target: "prepare"), new Page(), CancellationToken.None);

        Assert.Equal([second.Id, first.Id], runs.Select(r => r.Id));
    }
}
