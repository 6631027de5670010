using Millrace.Engine;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Engine;

public sealed class RunRequestTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("prepare", """
            name: prepare
            parameters: { limit: { type: int, default: "2" } }
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: top
                type: sql
                input: customers
                sql: SELECT * FROM customers ORDER BY spend DESC LIMIT $limit
            """).Pipeline("nightly", """
            name: nightly
            workflows: [prepare]
            parameters: { day: { type: date } }
            """);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    async Task<int> RunCountAsync() => (await (await _project.StoreAsync()).FindRunsAsync(new RunFilter(), new Page(), CancellationToken.None)).Count;

    [Fact]
    public async Task An_unknown_target_is_refused_before_anything_is_recorded()
    {
        var error = await Assert.ThrowsAsync<RunRequestException>(() => _project.RunAsync("prepair"));

        Assert.Contains("no pipeline or workflow named 'prepair'", error.Message);
        Assert.Contains("workflows: prepare", error.Message);
        Assert.Equal(0, await RunCountAsync());
    }

    [Fact]
    public async Task A_parameter_of_the_wrong_type_is_refused_before_anything_is_recorded()
    {
        var error = await Assert.ThrowsAsync<RunRequestException>(() => _project.RunAsync("prepare", ("limit", "many")));

        Assert.Contains("parameter 'limit' expects an integer", error.Message);
        Assert.Equal(0, await RunCountAsync());
    }

    [Fact]
    public async Task A_pipeline_requires_its_own_required_parameters()
    {
        var error = await Assert.ThrowsAsync<RunRequestException>(() => _project.RunAsync("nightly"));

        Assert.Contains("parameter 'day' is required", error.Message);
    }

    [Fact]
    public async Task An_int_parameter_reaches_the_SQL_as_a_number()
    {
        var run = await _project.RunAsync("prepare", ("limit", "4"));

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(4, (await _project.StepRunAsync(run.Id, "top")).Rows);
    }

    [Fact]
    public async Task The_same_run_key_returns_the_existing_run_and_runs_nothing()
    {
        var first = await _project.RunAsync(new RunRequest("prepare", [], TriggerKind.Api, RunKey: "2024-01-05"));

        var second = await _project.RunAsync(new RunRequest("prepare", [], TriggerKind.Api, RunKey: "2024-01-05"));

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(RunStatus.Succeeded, second.Status);
        Assert.Equal(1, await RunCountAsync());
        var third = await _project.RunAsync(new RunRequest("prepare", [], TriggerKind.Api, RunKey: "2024-01-06"));
        Assert.NotEqual(first.Id, third.Id);
    }

    [Fact]
    public async Task A_pipeline_run_records_each_workflow_in_order()
    {
        var run = await _project.RunAsync("nightly", ("day", "2024-01-05"));

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal("pipeline", run.TargetKind);
        var workflows = await (await _project.StoreAsync()).GetWorkflowRunsAsync(run.Id, CancellationToken.None);
        Assert.Equal(["prepare"], workflows.Select(w => w.Workflow));
    }
}
