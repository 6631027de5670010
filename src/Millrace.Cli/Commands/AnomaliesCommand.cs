using System.CommandLine;
using Millrace.Cli.Output;
using Millrace.Definitions;
using Millrace.Storage;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace anomalies [--run ID] [--kind KIND] [--limit N]</c>: findings recorded by steps, newest first.</summary>
public static class AnomaliesCommand
{
    public static Command Create(CliContext context)
    {
        var run = new Option<string?>("--run") { Description = "Only this run's anomalies." };
        var kind = new Option<string?>("--kind") { Description = "Only anomalies of this kind (deadline_missed, freshness_missed, expectation, drift, …)." };
        var limit = new Option<int>("--limit", "-n") { Description = "How many to list (default 50).", DefaultValueFactory = _ => 50 };
        var command = new Command("anomalies", "List anomalies (rewritten input files, schema changes, failed expectations, drift, …), newest first.");
        command.Options.Add(run);
        command.Options.Add(kind);
        command.Options.Add(limit);
        command.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.LoadProject(parse);
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            var anomalies = await store.FindAnomaliesAsync(parse.GetValue(run), parse.GetValue(kind), new Page(0, Math.Max(1, parse.GetValue(limit))), ct);
            var console = Terminal.For(context);
            if (anomalies.Count == 0) { console.MarkupLine("no anomalies recorded"); return CliApp.Success; }
            var table = new Table().AddColumns("when (UTC)", "run", "step", "kind", "severity", "policy", "message");
            foreach (var a in anomalies)
                table.AddRow($"{a.CreatedAt:yyyy-MM-dd HH:mm:ss}", a.RunId.Length == 0 ? "-" : a.RunId, a.Workflow is null ? "-" : Markup.Escape($"{a.Workflow}.{a.StepId}"), a.Kind, a.Severity.ToString().ToLowerInvariant(), a.Policy, Markup.Escape(a.Message));
            console.Write(table);
            return CliApp.Success;
        }));
        return command;
    }
}
