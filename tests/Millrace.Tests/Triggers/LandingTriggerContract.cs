using Microsoft.Extensions.Time.Testing;
using Millrace.Engine;
using Millrace.Lake;
using Millrace.Storage;
using Millrace.Tests.TestSupport;
using Millrace.Triggers;

namespace Millrace.Tests.Triggers;

/// <summary>
/// Landing triggers against a real lake and a real store: each derived class names one lake (a folder, or a bucket on
/// s3rver) and one store (SQLite or PostgreSQL), and every test here runs on it. The clock is a
/// <see cref="FakeTimeProvider"/> the tests advance; each poll is one call, so nothing waits for wall-clock time.
/// </summary>
public abstract partial class LandingTriggerContract : IAsyncLifetime
{
    protected static readonly DateOnly Day = new(2026, 3, 2);
    static readonly CancellationToken None = CancellationToken.None;

    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 3, 3, 6, 0, 0, TimeSpan.Zero));
    readonly List<TestProject> _projects = [];
    IMetadataStore? _store;

    protected IMetadataStore Store => _store!;

    /// <summary>Creates an empty, migrated store for the test.</summary>
    protected abstract Task<IMetadataStore> CreateStoreAsync();

    /// <summary>Removes what <see cref="CreateStoreAsync"/> made, after the store is closed.</summary>
    protected virtual Task DeleteStoreAsync() => Task.CompletedTask;

    /// <summary>Prepares the lake (a bucket); skips the test when its server is missing.</summary>
    protected virtual Task CreateLakeAsync() => Task.CompletedTask;

    /// <summary>The millrace.yaml lines of the lake; empty for the project's own folder.</summary>
    protected abstract string LakeYaml { get; }

    /// <summary>Writes (or rewrites) a lake file where the lake keeps it.</summary>
    protected abstract Task LandAsync(TestProject project, string path, string content);

    public async Task InitializeAsync()
    {
        await CreateLakeAsync();
        _store = await CreateStoreAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var project in _projects) await project.DisposeAsync();
        if (_store is not null) await _store.DisposeAsync();
        await DeleteStoreAsync();
    }

    /// <summary>A project with the pipeline <c>daily</c> (one quick workflow) under <paramref name="trigger"/>.</summary>
    protected TestProject Project(string trigger = TwoFeeds, string? lakeYaml = null)
    {
        var project = new TestProject(projectYaml: $"id: landing\n{lakeYaml ?? LakeYaml}");
        project.Workflow("stamp", "name: stamp\nsteps:\n  - id: d\n    type: sql\n    sql: SELECT ${run.date} AS d\n");
        project.Pipeline("daily", $"workflows: [stamp]\ntrigger:\n{trigger}");
        _projects.Add(project);
        return project;
    }

    protected const string TwoFeeds = """
          when_landed:
            - raw/events/dt={date}/*.csv
            - raw/customers/dt={date}/*.csv
          settle: 2m
          from: 2026-03-01
        """;

    /// <summary>A node: the project's coordinator on the test's store and clock, polling its lake.</summary>
    protected LandingTrigger Node(TestProject project)
    {
        var definition = project.Open();
        var coordinator = new InProcessRunCoordinator(new Runner(definition, Store) { DuckDbThreads = 1, Clock = Clock }, definition, Store, Clock);
        return new LandingTrigger(coordinator, LakeRoot.Open(definition));
    }

    protected static Task<LandingPollResult> PollAsync(LandingTrigger node, TestProject project) => node.PollAsync(project.Open().Pipelines["daily"], None);

    protected async Task<IReadOnlyList<Run>> RunsAsync() =>
        (await Store.FindRunsAsync(new RunFilter("landing", "daily"), new Page(0, 100), None)).OrderBy(r => r.CreatedAt).ThenBy(r => r.Id, StringComparer.Ordinal).ToList();

    protected async Task<LandingDate> DateAsync(DateOnly date) =>
        (await Store.ListLandingDatesAsync("landing", "daily", date, date, None)).Single();

    protected static string Events(DateOnly date, string name = "part-0.csv") => $"raw/events/dt={date:yyyy-MM-dd}/{name}";

    protected static string Customers(DateOnly date) => $"raw/customers/dt={date:yyyy-MM-dd}/part-0.csv";
}
