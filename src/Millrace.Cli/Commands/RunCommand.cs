using System.CommandLine;
using Microsoft.Extensions.Logging;
using Millrace.Cli.Output;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Storage;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace run &lt;pipeline|workflow&gt; [--var NAME=VALUE …] [--no-wait]</c> and <c>millrace run show &lt;run-id&gt;</c>.
/// A run obeys its pipeline's policy as on the server: it waits while <c>max_active</c> runs are running anywhere
/// (or is recorded skipped with <c>on_overlap: skip</c> or <c>--no-wait</c>), and a failed run is retried per <c>retries:</c>.
/// </summary>
public static class RunCommand
{
    public static Command Create(CliContext context)
    {
        var target = new Argument<string>("target") { Description = "Pipeline or workflow to run." };
        var runKey = new Option<string?>("--run-key") { Description = "Idempotency key: a second run with the same key returns the first run." };
        var noWait = new Option<bool>("--no-wait") { Description = "When the pipeline already has concurrency.max_active runs running (here, in another process or on a server), record this run skipped (exit 3) instead of waiting for a turn." };
        var command = new Command("run", "Run a pipeline or a workflow now. Parameters: --var NAME=VALUE (several allowed; also --var NAME = VALUE).");
        command.Arguments.Add(target);
        command.Options.Add(runKey);
        command.Options.Add(noWait);
        command.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.OpenProject(parse);
            await using var store = await CliContext.OpenStoreAsync(parse, project, ct);
            using var logging = context.Logging(parse);
            var request = new RunRequest(parse.GetValue(target)!, context.Variables, TriggerKind.Cli, parse.GetValue(runKey));
            var result = await ExecuteAsync(context, project, store, request, logging.CreateLogger("Millrace"), quiet: false, ct, wait: !parse.GetValue(noWait));
            var console = Terminal.For(context);
            Report(console, result);
            var run = result.Final.Run;
            console.MarkupLine($"[grey]details: millrace run show {run.Id}[/]");
            return ExitCode(run);
        }));
        command.Subcommands.Add(CreateShow(context));
        return command;
    }

    /// <summary>
    /// Submits a request to the in-process coordinator with progress on the console (shared by run, rerun, retry and
    /// quickstart): it waits for a turn when the pipeline is at its max_active (saying so once), unless
    /// <paramref name="wait"/> is false, and runs the retries its policy asks for.
    /// </summary>
    internal static async Task<RunResult> ExecuteAsync(CliContext context, ProjectDefinition project, IMetadataStore store, RunRequest request, ILogger logger, bool quiet, CancellationToken ct,
        bool wait = true, Func<InProcessRunCoordinator, SubmitOptions, Task<RunResult>>? submit = null)
    {
        var coordinator = context.Coordinator(project, store, logger);
        void Waiting(Run run, int running) => context.Error.WriteLine(
            $"waiting: pipeline '{run.Target}' has {running} run(s) queued or running (concurrency: max_active {coordinator.PolicyFor(run.Target).MaxActive}); " +
            "this run starts when one ends (--no-wait records it skipped instead)");
        submit ??= (c, options) => c.SubmitAsync(request, new RunRequestInfo(RequestedBy: "cli"), options, ct);
        try
        {
            if (!context.Interactive || quiet)
                return await submit(coordinator, new SubmitOptions(Wait: wait, Observer: new ConsoleRunObserver(context.Output, null) { Quiet = quiet }, Waiting: Waiting));
            RunResult? result = null;
            await Terminal.For(context).Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .StartAsync(async progress => result = await submit(coordinator, new SubmitOptions(Wait: wait, Observer: new ConsoleRunObserver(context.Output, progress), Waiting: Waiting)));
            return result!;
        }
        catch (RunRequestException e)
        {
            throw new CliException(e.Message, CliApp.UsageError);
        }
    }

    /// <summary>One line per run of the result: each attempt that was retried, then the last.</summary>
    internal static void Report(IAnsiConsole console, RunResult result, string? what = null)
    {
        for (var attempt = result; attempt is not null; attempt = attempt.Next)
        {
            var run = attempt.Run;
            var retried = attempt.Next is { } next ? $"; retried as run {next.Run.Id} (retries:)" : "";
            console.MarkupLine($"run [bold]{run.Id}[/]{what} {Terminal.StatusMarkup(run.Status)} in {Terminal.Duration(run.Duration)}{(run.Error is null ? "" : ": " + Markup.Escape(run.Error))}{Markup.Escape(retried)}");
        }
    }

    /// <summary>The exit code of a run's status.</summary>
    internal static int ExitCode(Run run) => run.Status switch
    {
        RunStatus.Succeeded or RunStatus.UpToDate => CliApp.Success,
        RunStatus.Cancelled => CliApp.Cancelled,
        RunStatus.Skipped => CliApp.Skipped,
        _ => CliApp.Failure,
    };

    static Command CreateShow(CliContext context)
    {
        var runId = new Argument<string>("run-id") { Description = "The run to show (see 'millrace runs')." };
        var logs = new Option<bool>("--logs") { Description = "Print the run's full log." };
        var show = new Command("show", "Show one run: parameters, each step's status, timing, rows and errors, and its log.");
        show.Arguments.Add(runId);
        show.Options.Add(logs);
        show.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.LoadProject(parse);
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            var id = parse.GetValue(runId)!;
            var run = await store.GetRunAsync(id, ct) ?? throw new CliException($"no run '{id}' in project '{project.Id}' (see 'millrace runs')");
            var console = Terminal.For(context);
            console.MarkupLine($"run [bold]{run.Id}[/]  {run.TargetKind} [bold]{Markup.Escape(run.Target)}[/]  {Terminal.StatusMarkup(run.Status)}");
            console.MarkupLine($"trigger {run.Trigger.ToString().ToLowerInvariant()}, run.date {run.RunDate:yyyy-MM-dd}, started {run.StartedAt:yyyy-MM-dd HH:mm:ss}Z, took {Terminal.Duration(run.Duration)}");
            if (run.Parameters.Count > 0) console.MarkupLine("parameters: " + Markup.Escape(string.Join(" ", run.Parameters.Select(p => $"--var {p.Key}={p.Value}"))));
            if (run.RunKey is not null) console.MarkupLine($"run key: {Markup.Escape(run.RunKey)}");
            if (run.Error is not null) console.MarkupLine($"[red]error:[/] {Markup.Escape(run.Error)}");
            foreach (var mark in (await store.ListStaleAsync(project.Id, run.Target, run.RunDate, run.RunDate, ct)).Where(m => m.RunId == run.Id))
                console.MarkupLine(mark.Open
                    ? $"[yellow]stale:[/] this run's outputs are stale since {mark.MarkedAt:yyyy-MM-dd HH:mm:ss}Z: {Markup.Escape(mark.Reason)}"
                    : Markup.Escape($"was stale ({mark.Reason}) until run {mark.ClearedByRunId} replaced its outputs at {mark.ClearedAt:yyyy-MM-dd HH:mm:ss}Z"));
            foreach (var memo in (await store.GetFingerprintsAsync(run.Id, ct)).Where(f => f.SameAsRunId is not null))
                console.MarkupLine(Markup.Escape($"workflow '{memo.Workflow}' up to date: same inputs as run {memo.SameAsRunId}"));
            var table = new Table().AddColumns("workflow", "step", "kind", "status", "rows", "time", "details");
            foreach (var step in await store.GetStepRunsAsync(run.Id, ct))
                table.AddRow(Markup.Escape(step.Workflow), Markup.Escape(step.StepId), step.Kind, Terminal.StatusMarkup(step.Status),
                    Terminal.Rows(step.Rows), Terminal.Duration(step.Duration), Markup.Escape(step.Error ?? step.DetailsJson ?? ""));
            console.Write(table);
            var anomalies = await store.FindAnomaliesAsync(run.Id, new Page(0, 200), ct);
            if (anomalies.Count > 0)
            {
                var found = new Table().Title("anomalies").AddColumns("step", "kind", "severity", "policy", "message");
                foreach (var a in anomalies.Reverse())
                    found.AddRow(Markup.Escape($"{a.Workflow}.{a.StepId}"), a.Kind, a.Severity.ToString().ToLowerInvariant(), a.Policy, Markup.Escape(a.Message));
                console.Write(found);
            }
            var drift = await store.GetDriftResultsAsync(run.Id, ct);
            if (drift.Count > 0)
                console.MarkupLine(Markup.Escape("drift (PSI): " + string.Join(", ", drift.Select(d => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{d.Feature} {d.Psi:0.000}")))));
            if (await store.GetRetrainDecisionAsync(run.Id, ct) is { } retrain)
                console.MarkupLine(Markup.Escape(retrain.Asked
                    ? $"retrain: asked for a run of '{retrain.RetrainPipeline}'{(retrain.TriggeredRunId is null ? "" : $" (run {retrain.TriggeredRunId})")}: {retrain.Reason}"
                    : $"retrain: not asked: {retrain.Reason}"));
            var lines = await store.GetLogsAsync(run.Id, ct);
            var shown = parse.GetValue(logs) ? lines : lines.TakeLast(10).ToList();
            if (shown.Count > 0)
            {
                console.MarkupLine(parse.GetValue(logs) ? "log:" : $"log (last {shown.Count} of {lines.Count} lines; --logs for all):");
                foreach (var line in shown)
                    console.MarkupLine(Markup.Escape($"  {line.At:HH:mm:ss.fff} {line.Level,-5} {(line.StepId is null ? "" : $"{line.Workflow}.{line.StepId}: ")}{line.Message}"));
            }
            return CliApp.Success;
        }));
        return show;
    }
}
