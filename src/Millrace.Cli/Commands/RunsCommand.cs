using System.CommandLine;
using Millrace.Cli.Output;
using Millrace.Definitions;
using Millrace.Storage;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace runs [--status S] [--pipeline P] [--limit N]</c>: the newest runs first.</summary>
public static class RunsCommand
{
    public static Command Create(CliContext context)
    {
        var status = new Option<string?>("--status") { Description = "Only runs with this status: queued, running, succeeded, up_to_date, failed, cancelled." };
        var pipeline = new Option<string?>("--pipeline") { Description = "Only runs of this pipeline or workflow." };
        var limit = new Option<int>("--limit", "-n") { Description = "How many runs to list (default 20).", DefaultValueFactory = _ => 20 };
        var command = new Command("runs", "List runs, newest first, with status, timings and row counts.");
        command.Options.Add(status);
        command.Options.Add(pipeline);
        command.Options.Add(limit);
        command.SetAction(context.Guard(async (parse, ct) =>
        {
            RunStatus? wanted = null;
            if (parse.GetValue(status) is { } text)
                wanted = Enum.TryParse<RunStatus>(text.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var s) && !int.TryParse(text, out _)
                    ? s : throw new CliException($"unknown status '{text}' (queued, running, succeeded, up_to_date, failed, cancelled)", CliApp.UsageError);
            var project = context.LoadProject(parse);
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            var runs = await store.FindRunsAsync(new RunFilter(project.Id, parse.GetValue(pipeline), wanted), new Page(0, Math.Max(1, parse.GetValue(limit))), ct);
            var console = Terminal.For(context);
            if (runs.Count == 0)
            {
                console.MarkupLine(wanted is null && parse.GetValue(pipeline) is null ? "no runs yet: try 'millrace run <pipeline>'" : "no runs match");
                return CliApp.Success;
            }
            var table = new Table().AddColumns("run", "target", "trigger", "status", "run.date", "started (UTC)", "time", "steps", "rows", "error");
            foreach (var run in runs)
            {
                var steps = await store.GetStepRunsAsync(run.Id, ct);
                table.AddRow(run.Id, Markup.Escape(run.Target), run.Trigger.ToString().ToLowerInvariant(), Terminal.StatusMarkup(run.Status),
                    run.RunDate.ToString("yyyy-MM-dd"), $"{run.StartedAt:yyyy-MM-dd HH:mm:ss}", Terminal.Duration(run.Duration),
                    $"{steps.Count(s => s.Status == RunStatus.Succeeded)}/{steps.Count}", Terminal.Rows(steps.Sum(s => s.Rows ?? 0)),
                    Markup.Escape(Truncate(run.Error, 60)));
            }
            console.Write(table);
            return CliApp.Success;
        }));
        return command;
    }

    static string Truncate(string? text, int length) => text is null ? "" : text.Length <= length ? text : text[..(length - 1)] + "…";
}
