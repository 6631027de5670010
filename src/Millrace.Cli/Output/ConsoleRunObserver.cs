using System.Collections.Concurrent;
using Millrace.Engine;
using Millrace.Storage;
using Spectre.Console;

namespace Millrace.Cli.Output;

/// <summary>
/// Shows a run as it goes. On a terminal: one progress bar per workflow, advancing per step. Redirected: one plain
/// line per step start and finish, so CI logs read well.
/// </summary>
public sealed class ConsoleRunObserver(TextWriter plain, ProgressContext? progress) : IRunObserver
{
    readonly ConcurrentDictionary<string, ProgressTask> _tasks = new();
    readonly Lock _gate = new();

    /// <summary>When true, plain mode prints only failures and the run's end (the quickstart loop prints its own summary).</summary>
    public bool Quiet { get; init; }

    public void RunStarted(Run run, IReadOnlyList<(string Workflow, int Steps)> plan)
    {
        if (progress is not null)
            foreach (var (workflow, steps) in plan)
                _tasks[workflow] = progress.AddTask(Markup.Escape(workflow), autoStart: false, maxValue: steps);
        else if (!Quiet) Write($"run {run.Id}: {run.TargetKind} '{run.Target}', run.date {run.RunDate:yyyy-MM-dd}");
    }

    public void WorkflowStarted(string runId, string workflow)
    {
        if (_tasks.TryGetValue(workflow, out var task)) task.StartTask();
    }

    public void StepStarted(string runId, string workflow, string stepId)
    {
        if (_tasks.TryGetValue(workflow, out var task)) task.Description = Markup.Escape($"{workflow} > {stepId}");
    }

    public void StepFinished(StepRun stepRun)
    {
        if (_tasks.TryGetValue(stepRun.Workflow, out var task))
        {
            task.Increment(1);
            if (stepRun.Status == RunStatus.Failed) task.Description = $"[red]{Markup.Escape($"{stepRun.Workflow} > {stepRun.StepId} failed")}[/]";
            return;
        }
        if (Quiet && stepRun.Status != RunStatus.Failed) return;
        var status = stepRun.Status.ToString().ToLowerInvariant();
        var rows = stepRun.Rows is null ? "" : $"{Terminal.Rows(stepRun.Rows)} rows";
        Write($"  {status,-9} {stepRun.Workflow}.{stepRun.StepId,-24} {rows,16} {Terminal.Duration(stepRun.Duration),8}{(stepRun.Error is null || stepRun.Status != RunStatus.Failed ? "" : "  " + stepRun.Error)}");
    }

    public void WorkflowFinished(string runId, string workflow, RunStatus status)
    {
        if (_tasks.TryGetValue(workflow, out var task))
        {
            if (status.IsSuccess()) { task.Value = task.MaxValue; task.Description = Markup.Escape(workflow); }
            task.StopTask();
        }
    }

    void Write(string line)
    {
        lock (_gate) plain.WriteLine(line);
    }
}
