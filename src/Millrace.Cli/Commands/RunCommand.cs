using System.CommandLine;
using Microsoft.Extensions.Logging;
using Millrace.Cli.Output;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Storage;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace run &lt;pipeline|workflow&gt; [--var NAME=VALUE …]</c> and <c>millrace run show &lt;run-id&gt;</c>.</summary>
public static class RunCommand
{
    public static Command Create(CliContext context)
    {
        var target = new Argument<string>("target") { Description = "Pipeline or workflow to run." };
        var runKey = new Option<string?>("--run-key") { Description = "Idempotency key: a second run with the same key returns the first run." };
        var command = new Command("run", "Run a pipeline or a workflow now. Parameters: --var NAME=VALUE (several allowed; also --var NAME = VALUE).");
        command.Arguments.Add(target);
        command.Options.Add(runKey);
        command.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.OpenProject(parse);
            await using var store = await CliContext.OpenStoreAsync(parse, project, ct);
            using var logging = context.Logging(parse);
            var request = new RunRequest(parse.GetValue(target)!, context.Variables, TriggerKind.Cli, parse.GetValue(runKey));
            var run = await ExecuteAsync(context, project, store, request, logging.CreateLogger("Millrace"), quiet: false, ct);
            var console = Terminal.For(context);
            console.MarkupLine($"run [bold]{run.Id}[/] {Terminal.StatusMarkup(run.Status)} in {Terminal.Duration(run.Duration)}{(run.Error is null ? "" : ": " + Markup.Escape(run.Error))}");
            console.MarkupLine($"[grey]details: millrace run show {run.Id}[/]");
            return run.Status switch { RunStatus.Succeeded => CliApp.Success, RunStatus.Cancelled => CliApp.Cancelled, _ => CliApp.Failure };
        }));
        command.Subcommands.Add(CreateShow(context));
        return command;
    }

    /// <summary>Runs a request with progress on the console; shared by run and quickstart.</summary>
    internal static async Task<Run> ExecuteAsync(CliContext context, ProjectDefinition project, IMetadataStore store, RunRequest request, ILogger logger, bool quiet, CancellationToken ct)
    {
        var runner = context.NewRunner(project, store, logger);
        try
        {
            if (!context.Interactive || quiet)
                return await runner.RunAsync(request, new ConsoleRunObserver(context.Output, null) { Quiet = quiet }, ct);
            Run? result = null;
            await Terminal.For(context).Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .StartAsync(async progress => result = await runner.RunAsync(request, new ConsoleRunObserver(context.Output, progress), ct));
            return result!;
        }
        catch (RunRequestException e)
        {
            throw new CliException(e.Message, CliApp.UsageError);
        }
    }

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
