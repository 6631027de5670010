using Millrace.Storage;

namespace Millrace.Tests.Storage;

/// <summary>
/// The data-quality part of the store contract: a step's history (what volume checks compare a batch with) and drift
/// results per run and feature.
/// </summary>
public abstract partial class MetadataStoreContract
{
    /// <summary>
    /// Run <paramref name="runId"/> (run date <paramref name="day"/>) in which step <paramref name="stepId"/> of
    /// <paramref name="workflow"/> ended with <paramref name="status"/> and took <paramref name="rows"/> rows; the
    /// workflow committed when <paramref name="committed"/>.
    /// </summary>
    async Task StepInRunAsync(string runId, DateOnly day, long rows, string workflow = "ingest", string stepId = "volume",
        RunStatus status = RunStatus.Succeeded, bool committed = true, DateTimeOffset? createdAt = null)
    {
        if (await Store.GetRunAsync(runId, None) is null) await Store.CreateRunAsync(NewRun(runId, runDate: day, createdAt: createdAt), None);
        await Store.SaveWorkflowRunAsync(new WorkflowRun { RunId = runId, Workflow = workflow, Position = 0, Status = committed ? RunStatus.Succeeded : RunStatus.Failed }, None);
        await Store.SaveStepRunAsync(new StepRun
        {
            RunId = runId, Workflow = workflow, StepId = stepId, Kind = "check", Status = status, StartedAt = T0, EndedAt = T0.AddSeconds(1),
            Rows = rows, DetailsJson = $$"""{"batch_rows":{{rows}}}""",
        }, None);
        if (committed) await Store.CommitAsync(new WorkflowCommit(runId, workflow, [], []), None);
    }

    static readonly DateOnly Day1 = new(2024, 3, 1);

    [SkippableFact]
    public async Task Step_history_lists_succeeded_committed_executions_newest_run_date_first()
    {
        await StepInRunAsync("run-a", Day1, 100);
        await StepInRunAsync("run-c", Day1.AddDays(2), 300);
        await StepInRunAsync("run-b", Day1.AddDays(1), 200);

        var history = await Store.GetStepHistoryAsync("ingest", "volume", "none", 10, None);

        Assert.Equal([(Day1.AddDays(2), """{"batch_rows":300}"""), (Day1.AddDays(1), """{"batch_rows":200}"""), (Day1, """{"batch_rows":100}""")], history);
    }

    [SkippableFact]
    public async Task Step_history_leaves_out_the_current_run_other_steps_and_other_workflows()
    {
        await StepInRunAsync("run-a", Day1, 100);
        await StepInRunAsync("run-a", Day1, 999, stepId: "other_step");
        await StepInRunAsync("run-b", Day1.AddDays(1), 888, workflow: "score");
        await StepInRunAsync("run-now", Day1.AddDays(2), 777);

        var history = await Store.GetStepHistoryAsync("ingest", "volume", "run-now", 10, None);

        Assert.Equal([(Day1, (string?)"""{"batch_rows":100}""")], history);
    }

    [SkippableFact]
    public async Task Step_history_leaves_out_failed_steps_and_workflows_that_did_not_commit()
    {
        await StepInRunAsync("run-a", Day1, 100);
        await StepInRunAsync("run-failed-step", Day1.AddDays(1), 5, status: RunStatus.Failed, committed: false);
        await StepInRunAsync("run-failed-later", Day1.AddDays(2), 5000, committed: false);

        var history = await Store.GetStepHistoryAsync("ingest", "volume", "none", 10, None);

        Assert.Equal([Day1], history.Select(h => h.RunDate));
    }

    [SkippableFact]
    public async Task Step_history_keeps_the_newest_up_to_the_limit_and_breaks_ties_by_creation_time()
    {
        for (var i = 0; i < 5; i++) await StepInRunAsync($"run-{i}", Day1.AddDays(i), 100 + i);
        // A second run on the newest date, created later: it comes first.
        await StepInRunAsync("run-4b", Day1.AddDays(4), 999, createdAt: T0.AddHours(1));

        var history = await Store.GetStepHistoryAsync("ingest", "volume", "none", 3, None);

        Assert.Equal(["""{"batch_rows":999}""", """{"batch_rows":104}""", """{"batch_rows":103}"""], history.Select(h => h.DetailsJson));
    }

    [SkippableFact]
    public async Task Step_history_of_a_step_that_never_ran_is_empty()
    {
        Assert.Empty(await Store.GetStepHistoryAsync("ingest", "volume", "none", 10, None));
    }

    static DriftResult Drift(string runId, string feature, double psi, string step = "drift", string reference = "churn@v3") =>
        new(runId, "score", step, feature, psi, reference, T0.AddMinutes(1));

    [SkippableFact]
    public async Task Drift_results_read_back_per_run_with_every_field_highest_psi_first()
    {
        await Store.CreateRunAsync(NewRun("run-1"), None);
        await Store.CreateRunAsync(NewRun("run-2"), None);
        await Store.AddDriftResultsAsync([Drift("run-1", "tenure", 0.05), Drift("run-1", "region", 0.41), Drift("run-1", "__prediction__", 0.123456, step: "scored", reference: "churn@v3 holdout scores")], None);
        await Store.AddDriftResultsAsync([Drift("run-2", "tenure", 0.9)], None);

        var results = await Store.GetDriftResultsAsync("run-1", None);

        Assert.Equal(
            [Drift("run-1", "region", 0.41), Drift("run-1", "__prediction__", 0.123456, step: "scored", reference: "churn@v3 holdout scores"), Drift("run-1", "tenure", 0.05)],
            results);
        Assert.Equal([Drift("run-2", "tenure", 0.9)], await Store.GetDriftResultsAsync("run-2", None));
        Assert.Empty(await Store.GetDriftResultsAsync("run-3", None));
    }

    [SkippableFact]
    public async Task Drift_results_keep_one_value_per_run_step_and_feature_the_last_written()
    {
        await Store.CreateRunAsync(NewRun("run-1"), None);
        await Store.AddDriftResultsAsync([Drift("run-1", "tenure", 0.05)], None);
        await Store.AddDriftResultsAsync([Drift("run-1", "tenure", 0.5, reference: "customers@v7")], None);
        await Store.AddDriftResultsAsync([Drift("run-1", "tenure", 0.2, step: "drift_2")], None);

        var results = await Store.GetDriftResultsAsync("run-1", None);

        Assert.Equal([Drift("run-1", "tenure", 0.5, reference: "customers@v7"), Drift("run-1", "tenure", 0.2, step: "drift_2")], results);
    }

    [SkippableFact]
    public async Task Drift_results_keep_full_double_precision_and_an_empty_batch_is_a_no_op()
    {
        await Store.CreateRunAsync(NewRun("run-1"), None);
        await Store.AddDriftResultsAsync([], None);
        await Store.AddDriftResultsAsync([Drift("run-1", "x", 1.0 / 3), Drift("run-1", "y", 0)], None);

        var results = await Store.GetDriftResultsAsync("run-1", None);

        Assert.Equal([1.0 / 3, 0], results.Select(r => r.Psi));
    }
}
