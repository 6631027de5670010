using System.CommandLine;
using Millrace.Cli.Output;
using Millrace.Engine;
using Millrace.Storage;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace rerun &lt;run-id&gt;</c> and <c>millrace retry &lt;run-id&gt;</c>.</summary>
public static class RerunCommand
{
    public static Command CreateRerun(CliContext context) =>
        Create(context, "rerun", "Run a run's pipeline or workflow again with its original parameters and run date.",
            async (runner, id, observer, ct) => (await runner.RerunAsync(id, observer, ct), false));

    public static Command CreateRetry(CliContext context) =>
        Create(context, "retry", "Resume a failed or cancelled run: keeps what its committed workflows did and starts at the one that failed.",
            (runner, id, observer, ct) => runner.RetryAsync(id, observer, ct));

    static Command Create(CliContext context, string name, string description, Func<Runner, string, IRunObserver, CancellationToken, Task<(Run Run, bool AlreadyRetried)>> action)
    {
        var runId = new Argument<string>("run-id") { Description = "The run (see 'millrace runs')." };
        var command = new Command(name, description);
        command.Arguments.Add(runId);
        command.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.OpenProject(parse);
            await using var store = await CliContext.OpenStoreAsync(parse, project, ct);
            using var logging = context.Logging(parse);
            var runner = context.NewRunner(project, store, logging.CreateLogger("Millrace"));
            Run run;
            bool alreadyRetried;
            try
            {
                (run, alreadyRetried) = await action(runner, parse.GetValue(runId)!, new ConsoleRunObserver(context.Output, null), ct);
            }
            catch (RunRequestException e)
            {
                throw new CliException(e.Message, CliApp.UsageError);
            }
            var console = Terminal.For(context);
            if (alreadyRetried)
            {
                // A run is resumed once: the earlier retry is the answer, and nothing ran now.
                console.MarkupLine($"run {Markup.Escape(parse.GetValue(runId)!)} was already retried as run [bold]{run.Id}[/] ({Terminal.StatusMarkup(run.Status)}); nothing ran now" +
                    (run.Status is RunStatus.Failed or RunStatus.Cancelled ? $". To resume again, retry that run: millrace retry {run.Id}" : ""));
                return run.Status is RunStatus.Failed or RunStatus.Cancelled or RunStatus.Skipped ? CliApp.Failure : CliApp.Success;
            }
            console.MarkupLine($"run [bold]{run.Id}[/] ({name} of {Markup.Escape(run.ParentRunId ?? "")}) {Terminal.StatusMarkup(run.Status)} in {Terminal.Duration(run.Duration)}{(run.Error is null ? "" : ": " + Markup.Escape(run.Error))}");
            return run.Status switch { RunStatus.Succeeded => CliApp.Success, RunStatus.Cancelled => CliApp.Cancelled, _ => CliApp.Failure };
        }));
        return command;
    }
}
