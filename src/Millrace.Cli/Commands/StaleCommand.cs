using System.CommandLine;
using Millrace.Cli.Output;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace stale mark PIPELINE --date D --reason TEXT | list [PIPELINE] [--from D] [--to D]</c>: stale marks on
/// what a pipeline's runs published for a date (see docs/triggers.md, "Stale outputs").
/// </summary>
public static class StaleCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("stale", "Stale outputs: mark what a pipeline published for a date as stale, or list the marks.");
        command.Subcommands.Add(Mark(context));
        command.Subcommands.Add(List(context));
        return command;
    }

    static Command Mark(CliContext context)
    {
        var pipeline = new Argument<string>("pipeline") { Description = "The pipeline whose outputs for the date are stale." };
        var date = new Option<string>("--date") { Description = "The run date, yyyy-MM-dd.", Required = true };
        var reason = new Option<string>("--reason") { Description = "Why, shown wherever the outputs are (run show, datasets, the API and the UI).", Required = true };
        var mark = new Command("mark", "Mark what the succeeded runs of PIPELINE for --date published as stale, until a later run of it for that date succeeds.");
        mark.Arguments.Add(pipeline);
        mark.Options.Add(date);
        mark.Options.Add(reason);
        mark.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.LoadProject(parse);
            var name = parse.GetValue(pipeline)!;
            if (!project.Pipelines.ContainsKey(name))
                throw new CliException($"no pipeline '{name}' in project '{project.Id}' (pipelines: {string.Join(", ", project.Pipelines.Keys.Order(StringComparer.Ordinal))})", CliApp.UsageError);
            var day = StatusCommand.ParseDate(parse.GetValue(date)!, "--date");
            var why = parse.GetValue(reason)!.Trim();
            if (why.Length is 0 or > 1000) throw new CliException("--reason must be between 1 and 1000 characters", CliApp.UsageError);
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            var marks = await store.MarkStaleAsync(project.Id, name, day, why, ct);
            var console = Terminal.For(context);
            console.MarkupLine(Markup.Escape(marks.Count == 0
                ? $"nothing marked: no succeeded run of '{name}' for {day:yyyy-MM-dd} that is not marked or replaced already"
                : $"marked {marks.Count} run(s) of '{name}' for {day:yyyy-MM-dd} stale: {string.Join(", ", marks.Select(m => m.RunId))}; a successful run of it for that date clears them"));
            return CliApp.Success;
        }));
        return mark;
    }

    static Command List(CliContext context)
    {
        var pipeline = new Argument<string?>("pipeline") { Description = "Only this pipeline's marks.", Arity = ArgumentArity.ZeroOrOne };
        var from = new Option<string?>("--from") { Description = "First run date, yyyy-MM-dd." };
        var to = new Option<string?>("--to") { Description = "Last run date, yyyy-MM-dd." };
        var list = new Command("list", "Every stale mark, open and cleared, by run date.");
        list.Arguments.Add(pipeline);
        list.Options.Add(from);
        list.Options.Add(to);
        list.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.LoadProject(parse);
            DateOnly? first = parse.GetValue(from) is { } f ? StatusCommand.ParseDate(f, "--from") : null;
            DateOnly? last = parse.GetValue(to) is { } t ? StatusCommand.ParseDate(t, "--to") : null;
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            var marks = await store.ListStaleAsync(project.Id, parse.GetValue(pipeline), first, last, ct);
            var console = Terminal.For(context);
            if (marks.Count == 0) { console.MarkupLine("no stale marks"); return CliApp.Success; }
            var table = new Table().AddColumns("pipeline", "run date", "run", "state", "reason", "marked (UTC)", "cleared by");
            foreach (var m in marks)
                table.AddRow(Markup.Escape(m.Pipeline), $"{m.RunDate:yyyy-MM-dd}", m.RunId, m.Open ? "[yellow]stale[/]" : "cleared", Markup.Escape(m.Reason),
                    $"{m.MarkedAt:yyyy-MM-dd HH:mm:ss}", m.ClearedByRunId ?? "");
            console.Write(table);
            return CliApp.Success;
        }));
        return list;
    }
}
