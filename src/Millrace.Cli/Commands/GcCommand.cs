using System.CommandLine;
using Millrace.Cli.Output;
using Millrace.Engine;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace gc [--dry-run]</c>: removes what crashed or failed runs left behind.</summary>
public static class GcCommand
{
    public static Command Create(CliContext context)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Only report what would be removed." };
        var command = new Command("gc", "Remove orphaned files of runs that did not commit (dataset files no version lists, staging and temp folders); mark runs whose process died as interrupted.");
        command.Options.Add(dryRun);
        command.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.OpenProject(parse);
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            var report = await new GarbageCollector(project, store).CollectAsync(parse.GetValue(dryRun), ct);
            var (verb, marked) = parse.GetValue(dryRun) ? ("would remove", "would be marked failed") : ("removed", "marked failed");
            var console = Terminal.For(context);
            console.MarkupLine(Markup.Escape(
                $"gc {verb} {report.DatasetFiles} orphaned dataset file(s), {report.StagingFolders} staging folder(s), {report.TempFolders} temp folder(s): {report.Bytes:N0} bytes; {report.InterruptedRuns} interrupted run(s) {marked}"
                + (report.UnpublishedFiles > 0 ? $"; {report.UnpublishedFiles} committed file(s) still unpublished, see 'millrace publish list'" : "")));
            foreach (var runId in report.InterruptedRunIds) console.MarkupLine(Markup.Escape($"  interrupted: {runId}"));
            return CliApp.Success;
        }));
        return command;
    }
}
