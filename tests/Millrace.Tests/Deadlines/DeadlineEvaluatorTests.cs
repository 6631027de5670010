using Microsoft.Extensions.Time.Testing;
using Millrace.Deadlines;
using Millrace.Engine;
using Millrace.Lake;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Deadlines;

/// <summary>
/// The deadline evaluator on a real SQLite store and folder lake, with a fake clock: a date is missed unless a run for
/// it succeeded by the due time; queued and running runs do not count; a miss is recorded once and, once done, marked
/// met late. Every check asserts the evaluation's result at a moment past <c>by</c>, never after a sleep.
/// </summary>
public sealed class DeadlineEvaluatorTests : IAsyncLifetime
{
    static readonly DateOnly Day = new(2026, 1, 15);
    // 07:00 in Berlin on the 15th (winter, CET).
    static readonly DateTimeOffset Due = new(2026, 1, 15, 6, 0, 0, TimeSpan.Zero);
    readonly TestProject _project = new("shop");
    readonly FakeTimeProvider _clock = new(Due - TimeSpan.FromMinutes(1));

    public Task InitializeAsync()
    {
        _project.Workflow("one", "name: one\nsteps:\n  - id: a\n    type: sql\n    sql: SELECT 1 AS n\n")
            .Pipeline("daily", "name: daily\nworkflows: [one]\ndeadline: { by: \"07:00\", timezone: Europe/Berlin }\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    async Task<DeadlineEvaluation> EvaluateAsync(string node = "node-a") =>
        await new DeadlineEvaluator(_project.Open(), await _project.StoreAsync(), LakeRoot.Open(_project.Open()), _clock, NodeIdentity.Named(node))
            { Lookback = TimeSpan.FromHours(1) }.EvaluateAsync(CancellationToken.None);

    async Task<Run> RecordRunAsync(RunStatus status, DateTimeOffset createdAt, DateTimeOffset? endedAt = null, string target = "daily", string kind = "pipeline")
    {
        var run = new Run
        {
            Id = "run-" + Guid.NewGuid().ToString("N")[..8], ProjectId = "shop", Target = target, TargetKind = kind, Trigger = TriggerKind.Schedule, Status = status,
            Parameters = [], RunDate = Day, DefinitionsHash = "h", CreatedAt = createdAt, StartedAt = status == RunStatus.Queued ? null : createdAt, EndedAt = endedAt,
        };
        return await (await _project.StoreAsync()).CreateRunAsync(run, CancellationToken.None);
    }

    async Task<IReadOnlyList<Anomaly>> AnomaliesAsync() => await (await _project.StoreAsync()).FindAnomaliesAsync(null, new Page(), CancellationToken.None);

    [Fact]
    public async Task A_deadline_that_passes_with_no_run_is_recorded_once_as_an_anomaly()
    {
        Assert.Empty((await EvaluateAsync()).Checks);

        _clock.Advance(TimeSpan.FromMinutes(1));
        var first = await EvaluateAsync();
        _clock.Advance(TimeSpan.FromSeconds(30));
        var second = await EvaluateAsync();

        var miss = Assert.Single(first.Recorded);
        Assert.Equal(("daily", DeadlineKind.Deadline, Day, Due, "07:00 Europe/Berlin", "no run for 2026-01-15"), (miss.Pipeline, miss.Kind, miss.RunDate, miss.DueAt, miss.DueText, miss.Missing));
        Assert.Empty(second.Recorded);
        Assert.True(Assert.Single(second.Checks).Missed);
        var anomaly = Assert.Single(await AnomaliesAsync());
        Assert.Equal(("deadline_missed", miss.AnomalyId, AnomalySeverity.Warning), (anomaly.Kind, anomaly.Id, anomaly.Severity));
        Assert.Contains("no run for 2026-01-15 succeeded by 07:00 Europe/Berlin", anomaly.Message);
        Assert.Contains("\"runDate\":\"2026-01-15\"", anomaly.DetailsJson);
    }

    [Fact]
    public async Task A_run_that_succeeded_before_by_means_no_miss()
    {
        await RecordRunAsync(RunStatus.Succeeded, Due.AddHours(-2), Due.AddMinutes(-5));
        _clock.Advance(TimeSpan.FromMinutes(2));

        var evaluation = await EvaluateAsync();

        var check = Assert.Single(evaluation.Checks);
        Assert.False(check.Missed);
        Assert.Empty(evaluation.Recorded);
        Assert.Empty(await AnomaliesAsync());
    }

    [Theory]
    [InlineData(RunStatus.Queued)]
    [InlineData(RunStatus.Running)]
    [InlineData(RunStatus.Failed)]
    public async Task A_run_not_succeeded_at_by_is_a_miss_that_names_its_state(RunStatus status)
    {
        var run = await RecordRunAsync(status, Due.AddHours(-1), status == RunStatus.Failed ? Due.AddMinutes(-30) : null);
        _clock.Advance(TimeSpan.FromMinutes(2));

        var miss = Assert.Single((await EvaluateAsync()).Recorded);

        Assert.Equal($"no succeeded run for 2026-01-15: the latest, {run.Id}, was {status.ToString().ToLowerInvariant()}", miss.Missing);
        var anomaly = Assert.Single(await AnomaliesAsync());
        Assert.Equal("", anomaly.RunId);
        Assert.Contains($"\"runId\":\"{run.Id}\"", anomaly.DetailsJson);
    }

    [Fact]
    public async Task A_workflow_run_of_the_same_name_or_a_run_of_another_pipeline_does_not_count()
    {
        await RecordRunAsync(RunStatus.Succeeded, Due.AddHours(-2), Due.AddHours(-1), target: "other");
        await RecordRunAsync(RunStatus.Succeeded, Due.AddHours(-2), Due.AddHours(-1), kind: "workflow");
        _clock.Advance(TimeSpan.FromMinutes(2));

        Assert.Single((await EvaluateAsync()).Recorded);
    }

    [Fact]
    public async Task A_run_that_succeeds_after_by_leaves_the_miss_recorded_and_marks_it_met_late()
    {
        var run = await RecordRunAsync(RunStatus.Running, Due.AddHours(-1));
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Single((await EvaluateAsync()).Recorded);

        var store = await _project.StoreAsync();
        Assert.True(await store.FinishRunAsync(run with { Status = RunStatus.Succeeded, EndedAt = Due.AddMinutes(10) }, CancellationToken.None));
        _clock.Advance(TimeSpan.FromMinutes(30));
        var later = await EvaluateAsync();

        var check = Assert.Single(later.Checks);
        Assert.Equal((true, Due.AddMinutes(10)), (check.Missed, check.MetAt));
        Assert.Empty(later.Recorded);
        var listed = Assert.Single(await store.ListDeadlineMissesAsync("shop", "daily", Day, Day, CancellationToken.None));
        Assert.Equal(Due.AddMinutes(10), listed.MetAt);
        Assert.Single(await AnomaliesAsync());
    }

    [Fact]
    public async Task A_run_that_succeeded_only_after_by_but_before_the_first_evaluation_is_still_a_miss_met_late()
    {
        await RecordRunAsync(RunStatus.Succeeded, Due.AddMinutes(-30), Due.AddMinutes(5));
        _clock.Advance(TimeSpan.FromMinutes(20));

        var miss = Assert.Single((await EvaluateAsync()).Recorded);

        Assert.Equal(Due.AddMinutes(5), miss.MetAt);
    }

    [Fact]
    public async Task Two_evaluators_on_two_connections_to_one_store_record_the_miss_once()
    {
        _clock.Advance(TimeSpan.FromMinutes(2));
        await using var second = await SqliteMetadataStore.OpenAsync(Path.Combine(_project.Directory, ".millrace", "millrace.db"), CancellationToken.None);
        var project = _project.Open();
        var lake = LakeRoot.Open(project);
        var one = new DeadlineEvaluator(project, await _project.StoreAsync(), lake, _clock, NodeIdentity.Named("node-a"));
        var two = new DeadlineEvaluator(project, second, lake, _clock, NodeIdentity.Named("node-b"));

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => (i % 2 == 0 ? one : two).EvaluateAsync(CancellationToken.None)));

        Assert.Equal(1, results.Sum(r => r.Recorded.Count));
        Assert.Single(await AnomaliesAsync());
    }
}
