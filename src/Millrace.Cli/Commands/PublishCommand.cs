using System.CommandLine;
using Millrace.Cli.Output;
using Millrace.Engine;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace publish list | retry | discard &lt;run-id&gt;</c>: committed output files that are still waiting in
/// staging because their move to the final lake path failed, and what an operator can do about them.
/// </summary>
public static class PublishCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("publish", "Committed output files still waiting to be published (moved to their lake path): list them, retry, or discard a run's.");
        command.Subcommands.Add(List(context));
        command.Subcommands.Add(Retry(context));
        command.Subcommands.Add(Discard(context));
        return command;
    }

    static Command List(CliContext context)
    {
        var list = new Command("list", "Every committed file not yet published, with its run, final path and the last error.");
        list.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.LoadProject(parse);
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            var console = Terminal.For(context);
            var files = await store.FindUnpublishedFilesAsync(ct);
            if (files.Count == 0) { console.MarkupLine("nothing waiting: every committed file is published"); return CliApp.Success; }
            // One line per file and its error below it, unwrapped: the error is long, and operators grep it.
            foreach (var file in files)
            {
                var committed = file.CommittedAt is { } at ? $"committed {at:yyyy-MM-dd HH:mm:ss} UTC" : "committed";
                await context.Output.WriteLineAsync($"{file.RunId}  {file.Workflow}  {file.File.FinalPath}  ({committed})");
                await context.Output.WriteLineAsync($"    last error: {file.Error ?? "none (not tried since the commit)"}");
            }
            return CliApp.Success;
        }));
        return list;
    }

    static Command Retry(CliContext context)
    {
        var retry = new Command("retry", "Try again to publish every waiting file (as each run's start and gc do); exits with 1 if some still fail.");
        retry.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.LoadProject(parse);
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            var before = (await store.GetUnpublishedFilesAsync(ct)).Count;
            var failures = await Publisher.PublishAsync(store, context.OpenLake(project), null, ct);
            var console = Terminal.For(context);
            foreach (var failure in failures)
                await context.Error.WriteLineAsync($"error: '{failure.File.FinalPath}' of run {failure.RunId}: {failure.Error}");
            console.MarkupLine(Markup.Escape($"published {before - failures.Count} file(s); {failures.Count} still waiting"));
            return failures.Count == 0 ? CliApp.Success : CliApp.Failure;
        }));
        return retry;
    }

    static Command Discard(CliContext context)
    {
        var runId = new Argument<string>("run-id") { Description = "The run whose waiting files to give up (see 'millrace publish list')." };
        var discard = new Command("discard", "Give up publishing a run's waiting files: they are deleted from staging and never published. The run's commit (dataset versions, models) stands.");
        discard.Arguments.Add(runId);
        discard.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.LoadProject(parse);
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            var run = parse.GetValue(runId)!;
            var files = await store.DiscardUnpublishedFilesAsync(run, ct);
            if (files.Count == 0) throw new CliException($"run {run} has no file waiting to be published (see 'millrace publish list')");
            var lake = context.OpenLake(project);
            await lake.Storage.DeleteAsync(files.Select(f => f.StagingPath).ToList(), ct);
            var console = Terminal.For(context);
            foreach (var file in files) console.MarkupLine(Markup.Escape($"discarded {file.FinalPath}"));
            console.MarkupLine(Markup.Escape($"run {run}: {files.Count} file(s) discarded; 'millrace gc' removes its staging folder"));
            return CliApp.Success;
        }));
        return discard;
    }
}
