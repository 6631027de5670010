using Microsoft.Extensions.Time.Testing;
using Millrace.Engine;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Engine;

/// <summary>
/// The clock and the crash points a run uses are the ones its host handed the runner: steps stamp what they record
/// with the run's clock, and only the runner's own <see cref="FaultInjector"/> acts (never an environment variable).
/// </summary>
public sealed class HostInstanceTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("wf", """
            name: wf
            steps:
              - { id: customers, type: read, path: raw/customers.csv }
              - { id: save, type: write, input: customers, dataset: customers }
            """);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public async Task Steps_the_run_log_and_the_store_take_their_time_from_the_hosts_clock()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.Zero));
        var store = await _project.StoreAsync();
        store.Database.Clock = clock; // as MetadataStores.OpenAsync(project, ct, create, clock) sets it for a host
        var runner = new Runner(_project.Open(), store) { DuckDbThreads = 1, Clock = clock };

        var run = await runner.RunAsync(new RunRequest("wf", []));

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(clock.GetUtcNow(), (await _project.DatasetVersionAsync("customers"))!.CreatedAt);
        var steps = await _project.StepRunsAsync(run.Id);
        Assert.All(steps, s => Assert.Equal((clock.GetUtcNow(), clock.GetUtcNow()), (s.StartedAt, s.EndedAt!.Value)));
        Assert.Contains(await store.GetLogsAsync(run.Id, CancellationToken.None), l => l.At == clock.GetUtcNow());
    }

    [Fact]
    public async Task Only_the_runners_fault_injector_acts_and_only_at_its_armed_points()
    {
        var hits = new List<string>();
        var faults = new FaultInjector(["wf.save.after", "nowhere.commit.before"], hits.Add);
        Assert.True(faults.Armed);
        var runner = new Runner(_project.Open(), await _project.StoreAsync()) { DuckDbThreads = 1, Faults = faults };

        var run = await runner.RunAsync(new RunRequest("wf", []));

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(["wf.save.after"], hits);
        Assert.False(FaultInjector.None.Armed);
    }
}
