using Millrace.Storage;

namespace Millrace.Tests.Storage;

/// <summary>
/// What every <see cref="IMetadataStore"/> must do, whatever database is behind it. A store's test class derives from
/// this and says how to make an empty, migrated store; every test here then runs against it.
/// </summary>
public abstract partial class MetadataStoreContract : IAsyncLifetime
{
    static readonly DateTimeOffset T0 = new(2024, 1, 5, 10, 0, 0, TimeSpan.Zero);
    static readonly CancellationToken None = CancellationToken.None;

    IMetadataStore? _store;

    /// <summary>The store under test: empty and migrated when each test starts.</summary>
    protected IMetadataStore Store => _store ?? throw new InvalidOperationException("the store is created in InitializeAsync");

    /// <summary>Creates an empty, migrated store used by one test.</summary>
    protected abstract Task<IMetadataStore> CreateStoreAsync();

    /// <summary>Removes whatever <see cref="CreateStoreAsync"/> made (files, a database), after the store is disposed.</summary>
    protected virtual Task DeleteStoreAsync() => Task.CompletedTask;

    public async Task InitializeAsync() => _store = await CreateStoreAsync();

    public async Task DisposeAsync()
    {
        if (_store is not null) await _store.DisposeAsync();
        await DeleteStoreAsync();
    }

    protected static Run NewRun(string id, string target = "nightly", DateTimeOffset? createdAt = null, RunStatus status = RunStatus.Running,
        string? runKey = null, string projectId = "shop", DateOnly? runDate = null) => new()
    {
        Id = id,
        ProjectId = projectId,
        Target = target,
        TargetKind = "pipeline",
        Trigger = TriggerKind.Api,
        Status = status,
        Parameters = [new("region", "north"), new("note", "it's \"quoted\"")],
        RunDate = runDate ?? new DateOnly(2024, 1, 5),
        DefinitionsHash = "abc123",
        RunKey = runKey,
        CreatedAt = createdAt ?? T0,
        StartedAt = createdAt ?? T0,
    };

    protected static DatasetVersion NewVersion(string dataset, int version, string runId = "run-1", params string[] files) => new()
    {
        Dataset = dataset,
        Version = version,
        RunId = runId,
        Workflow = "ingest",
        StepId = "save",
        CreatedAt = T0,
        Rows = version * 10,
        Files = files.Length > 0 ? files : [$"datasets/{dataset}/part-{runId}-{version}.parquet"],
        Schema = [new ColumnSchema("id", "BIGINT"), new ColumnSchema("name", "VARCHAR")],
        Operation = "overwrite",
    };

    protected static WorkflowCommit Commit(string runId, params (DatasetVersion Version, int? BaseVersion)[] versions) =>
        new(runId, "ingest", versions, []);

    static void AssertSameRun(Run expected, Run? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(
            (expected.Id, expected.ProjectId, expected.Target, expected.TargetKind, expected.Trigger, expected.Status, expected.RunDate, expected.DefinitionsHash, expected.RunKey, expected.ParentRunId, expected.Error),
            (actual.Id, actual.ProjectId, actual.Target, actual.TargetKind, actual.Trigger, actual.Status, actual.RunDate, actual.DefinitionsHash, actual.RunKey, actual.ParentRunId, actual.Error));
        Assert.Equal(expected.Parameters, actual.Parameters);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.StartedAt, actual.StartedAt);
        Assert.Equal(expected.EndedAt, actual.EndedAt);
    }

    // ---- runs ----

    [SkippableFact]
    public async Task A_created_run_reads_back_with_every_field()
    {
        var run = NewRun("run-1") with { ParentRunId = "run-0", RunKey = "key-1", CreatedAt = T0.AddTicks(1234567), StartedAt = T0.AddSeconds(1) };

        var created = await Store.CreateRunAsync(run, None);

        AssertSameRun(run, created);
        AssertSameRun(run, await Store.GetRunAsync("run-1", None));
    }

    [SkippableFact]
    public async Task An_unknown_run_is_null()
    {
        Assert.Null(await Store.GetRunAsync("nope", None));
    }

    [SkippableFact]
    public async Task Finishing_a_run_records_its_outcome()
    {
        var run = NewRun("run-1");
        await Store.CreateRunAsync(run, None);
        var finished = run with { Status = RunStatus.Failed, EndedAt = T0.AddMinutes(3), Error = "step 'load': file raw/a.csv is empty" };

        Assert.True(await Store.FinishRunAsync(finished, None));

        AssertSameRun(finished, await Store.GetRunAsync("run-1", None));
    }

    [SkippableFact]
    public async Task Finding_runs_filters_by_project_target_status_and_run_date()
    {
        await Store.CreateRunAsync(NewRun("a", "nightly", T0, RunStatus.Succeeded), None);
        await Store.CreateRunAsync(NewRun("b", "nightly", T0.AddMinutes(1), RunStatus.Failed), None);
        await Store.CreateRunAsync(NewRun("c", "hourly", T0.AddMinutes(2), RunStatus.Succeeded), None);
        await Store.CreateRunAsync(NewRun("d", "nightly", T0.AddMinutes(3), RunStatus.Succeeded, projectId: "other"), None);
        await Store.CreateRunAsync(NewRun("e", "nightly", T0.AddMinutes(4), RunStatus.Succeeded, runDate: new DateOnly(2023, 12, 31)), None);

        async Task<IEnumerable<string>> Find(RunFilter filter) => (await Store.FindRunsAsync(filter, new Page(), None)).Select(r => r.Id);

        Assert.Equal(["e", "d", "c", "b", "a"], await Find(new RunFilter()));
        Assert.Equal(["e", "c", "b", "a"], await Find(new RunFilter(ProjectId: "shop")));
        Assert.Equal(["e", "b", "a"], await Find(new RunFilter(ProjectId: "shop", Target: "nightly")));
        Assert.Equal(["e", "a"], await Find(new RunFilter(ProjectId: "shop", Target: "nightly", Status: RunStatus.Succeeded)));
        Assert.Equal(["e"], await Find(new RunFilter(RunDate: new DateOnly(2023, 12, 31))));
        Assert.Empty(await Find(new RunFilter(Status: RunStatus.Cancelled)));
    }

    [SkippableFact]
    public async Task Finding_runs_pages_newest_first()
    {
        for (var i = 0; i < 7; i++)
            await Store.CreateRunAsync(NewRun($"run-{i}", createdAt: T0.AddMinutes(i)), None);

        async Task<IEnumerable<string>> Page(int offset, int limit) => (await Store.FindRunsAsync(new RunFilter(), new Page(offset, limit), None)).Select(r => r.Id);

        Assert.Equal(["run-6", "run-5", "run-4"], await Page(0, 3));
        Assert.Equal(["run-3", "run-2", "run-1"], await Page(3, 3));
        Assert.Equal(["run-0"], await Page(6, 3));
        Assert.Empty(await Page(9, 3));
    }

    [SkippableFact]
    public async Task Runs_created_in_the_same_instant_are_ordered_by_id()
    {
        await Store.CreateRunAsync(NewRun("run-a"), None);
        await Store.CreateRunAsync(NewRun("run-b"), None);

        var runs = await Store.FindRunsAsync(new RunFilter(), new Page(), None);

        Assert.Equal(["run-b", "run-a"], runs.Select(r => r.Id));
    }

    [SkippableFact]
    public async Task A_reused_run_key_returns_the_existing_run_and_writes_nothing()
    {
        var first = NewRun("run-1", runKey: "2024-01-05") with { Status = RunStatus.Succeeded };
        await Store.CreateRunAsync(first, None);

        var second = await Store.CreateRunAsync(NewRun("run-2", createdAt: T0.AddHours(1), runKey: "2024-01-05"), None);

        AssertSameRun(first, second);
        Assert.Null(await Store.GetRunAsync("run-2", None));
        Assert.Single(await Store.FindRunsAsync(new RunFilter(), new Page(), None));
    }

    [SkippableFact]
    public async Task A_run_key_is_scoped_to_project_and_target()
    {
        await Store.CreateRunAsync(NewRun("run-1", "nightly", runKey: "k"), None);

        var otherTarget = await Store.CreateRunAsync(NewRun("run-2", "hourly", runKey: "k"), None);
        var otherProject = await Store.CreateRunAsync(NewRun("run-3", "nightly", runKey: "k", projectId: "other"), None);
        var noKey = await Store.CreateRunAsync(NewRun("run-4", "nightly"), None);
        var noKeyAgain = await Store.CreateRunAsync(NewRun("run-5", "nightly"), None);

        Assert.Equal(["run-2", "run-3", "run-4", "run-5"], new[] { otherTarget, otherProject, noKey, noKeyAgain }.Select(r => r.Id));
    }

    [SkippableFact]
    public async Task Running_runs_are_listed_with_their_owner()
    {
        await Store.CreateRunAsync(NewRun("running"), None);
        await Store.CreateRunAsync(NewRun("done", status: RunStatus.Succeeded), None);
        await Store.SetRunOwnerAsync("running", "host|123|456", None);

        var running = await Store.GetRunningRunsAsync(None);

        var (run, owner) = Assert.Single(running);
        Assert.Equal(("running", "host|123|456"), (run.Id, owner));
    }

    // ---- workflow and step runs ----

    [SkippableFact]
    public async Task Step_runs_are_upserted_by_run_workflow_and_step()
    {
        await Store.CreateRunAsync(NewRun("run-1"), None);
        var running = new StepRun { RunId = "run-1", Workflow = "ingest", StepId = "load", Kind = "read", Status = RunStatus.Running, StartedAt = T0 };
        await Store.SaveStepRunAsync(running, None);

        await Store.SaveStepRunAsync(running with { Status = RunStatus.Succeeded, EndedAt = T0.AddSeconds(2), Rows = 42, DetailsJson = """{"files":["raw/a.csv"]}""" }, None);

        var step = Assert.Single(await Store.GetStepRunsAsync("run-1", None));
        Assert.Equal(("load", "read", RunStatus.Succeeded, 42L, (string?)null), (step.StepId, step.Kind, step.Status, step.Rows, step.Error));
        Assert.Equal((T0, T0.AddSeconds(2)), (step.StartedAt, step.EndedAt));
        Assert.Equal("""{"files":["raw/a.csv"]}""", step.DetailsJson);
    }

    [SkippableFact]
    public async Task Step_runs_are_listed_by_workflow_position_then_start_time()
    {
        await Store.CreateRunAsync(NewRun("run-1"), None);
        await Store.SaveWorkflowRunAsync(new WorkflowRun { RunId = "run-1", Workflow = "ingest", Position = 0, Status = RunStatus.Succeeded }, None);
        await Store.SaveWorkflowRunAsync(new WorkflowRun { RunId = "run-1", Workflow = "score", Position = 1, Status = RunStatus.Running }, None);
        StepRun Step(string workflow, string id, int second) =>
            new() { RunId = "run-1", Workflow = workflow, StepId = id, Kind = "sql", Status = RunStatus.Succeeded, StartedAt = T0.AddSeconds(second) };
        await Store.SaveStepRunAsync(Step("score", "s1", 1), None);
        await Store.SaveStepRunAsync(Step("ingest", "i2", 3), None);
        await Store.SaveStepRunAsync(Step("ingest", "i1", 2), None);

        var steps = await Store.GetStepRunsAsync("run-1", None);

        Assert.Equal(["i1", "i2", "s1"], steps.Select(s => s.StepId));
    }

    [SkippableFact]
    public async Task Step_runs_of_another_run_are_not_listed()
    {
        await Store.CreateRunAsync(NewRun("run-1"), None);
        await Store.CreateRunAsync(NewRun("run-2"), None);
        await Store.SaveStepRunAsync(new StepRun { RunId = "run-2", Workflow = "w", StepId = "s", Kind = "sql", Status = RunStatus.Skipped }, None);

        Assert.Empty(await Store.GetStepRunsAsync("run-1", None));
        Assert.Equal(RunStatus.Skipped, Assert.Single(await Store.GetStepRunsAsync("run-2", None)).Status);
    }

    [SkippableFact]
    public async Task A_workflow_run_keeps_its_commit_time_when_saved_again()
    {
        await Store.CreateRunAsync(NewRun("run-1"), None);
        var workflow = new WorkflowRun { RunId = "run-1", Workflow = "ingest", Position = 0, Status = RunStatus.Running, StartedAt = T0 };
        await Store.SaveWorkflowRunAsync(workflow, None);

        await Store.CommitAsync(Commit("run-1", (NewVersion("customers", 1), null)), None);
        await Store.SaveWorkflowRunAsync(workflow with { Status = RunStatus.Succeeded, EndedAt = T0.AddMinutes(1) }, None);

        var saved = Assert.Single(await Store.GetWorkflowRunsAsync("run-1", None));
        Assert.Equal((RunStatus.Succeeded, T0.AddMinutes(1)), (saved.Status, saved.EndedAt));
        Assert.NotNull(saved.CommittedAt);
    }

    // ---- logs ----

    [SkippableFact]
    public async Task Logs_are_kept_in_the_order_they_were_appended_per_run()
    {
        await Store.CreateRunAsync(NewRun("run-1"), None);
        await Store.CreateRunAsync(NewRun("run-2"), None);
        // Same timestamp on purpose: the order is the append order, not the clock.
        await Store.AppendLogAsync("run-1", T0, "info", null, null, "started", None);
        await Store.AppendLogAsync("run-2", T0, "info", null, null, "other run", None);
        await Store.AppendLogAsync("run-1", T0, "error", "ingest", "load", "file raw/a.csv is empty", None);
        await Store.AppendLogAsync("run-1", T0, "info", null, null, "failed", None);

        var logs = await Store.GetLogsAsync("run-1", None);

        Assert.Equal(["started", "file raw/a.csv is empty", "failed"], logs.Select(l => l.Message));
        Assert.Equal([1L, 2L, 3L], logs.Select(l => l.Sequence));
        Assert.Equal(("error", "ingest", "load", T0), (logs[1].Level, logs[1].Workflow, logs[1].StepId, logs[1].At));
        Assert.Equal(1L, Assert.Single(await Store.GetLogsAsync("run-2", None)).Sequence);
    }

    [SkippableFact]
    public async Task Concurrent_appends_to_one_run_lose_nothing()
    {
        await Store.CreateRunAsync(NewRun("run-1"), None);

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => Store.AppendLogAsync("run-1", T0, "info", null, $"s{i}", $"m{i}", None))));

        var logs = await Store.GetLogsAsync("run-1", None);
        Assert.Equal(20, logs.Count);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), logs.Select(l => l.Sequence));
        Assert.Equal(20, logs.Select(l => l.Message).Distinct().Count());
    }

    // ---- schema ----

    [SkippableFact]
    public async Task Migrating_again_changes_nothing()
    {
        await Store.CreateRunAsync(NewRun("run-1"), None);

        await Store.MigrateAsync(None);

        Assert.NotNull(await Store.GetRunAsync("run-1", None));
    }
}
