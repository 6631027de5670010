using System.CommandLine;
using Millrace.Cli.Output;
using Millrace.Engine;
using Millrace.Storage;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace rerun &lt;run-id&gt;</c> and <c>millrace retry &lt;run-id&gt;</c>, through the in-process coordinator: the
/// pipeline's max_active, on_overlap and retries apply as for <c>millrace run</c>.
/// </summary>
public static class RerunCommand
{
    public static Command CreateRerun(CliContext context) =>
        Create(context, "rerun", "Run a run's pipeline or workflow again with its original parameters and run date.",
            (coordinator, id, info, options, ct) => coordinator.RerunAsync(id, info, options, ct));

    public static Command CreateRetry(CliContext context) =>
        Create(context, "retry", "Resume a failed or cancelled run: keeps what its committed workflows did and starts at the one that failed.",
            (coordinator, id, info, options, ct) => coordinator.RetryAsync(id, info, options, ct));

    static Command Create(CliContext context, string name, string description,
        Func<InProcessRunCoordinator, string, RunRequestInfo, SubmitOptions, CancellationToken, Task<RunResult>> action)
    {
        var runId = new Argument<string>("run-id") { Description = "The run (see 'millrace runs')." };
        var noWait = new Option<bool>("--no-wait") { Description = "When the pipeline already has concurrency.max_active runs running, record the new run skipped (exit 3) instead of waiting." };
        var command = new Command(name, description);
        command.Arguments.Add(runId);
        command.Options.Add(noWait);
        command.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.OpenProject(parse);
            await using var store = await CliContext.OpenStoreAsync(parse, project, ct);
            using var logging = context.Logging(parse);
            var id = parse.GetValue(runId)!;
            // The target is the original run's: the request is made inside the coordinator, so nothing is known up front.
            var result = await RunCommand.ExecuteAsync(context, project, store, new RunRequest("", []), logging.CreateLogger("Millrace"), quiet: false, ct,
                wait: !parse.GetValue(noWait), submit: (coordinator, options) => action(coordinator, id, new RunRequestInfo(RequestedBy: "cli"), options, ct));
            var console = Terminal.For(context);
            var run = result.Final.Run;
            if (result.Earlier)
            {
                // A run is resumed once: the earlier retry is the answer, and nothing ran now.
                console.MarkupLine($"run {Markup.Escape(id)} was already retried as run [bold]{run.Id}[/] ({Terminal.StatusMarkup(run.Status)}); nothing ran now" +
                    (run.Status is RunStatus.Failed or RunStatus.Cancelled ? $". To resume again, retry that run: millrace retry {run.Id}" : ""));
                return run.Status is RunStatus.Failed or RunStatus.Cancelled or RunStatus.Skipped ? CliApp.Failure : CliApp.Success;
            }
            RunCommand.Report(console, result, $" ({name} of {Markup.Escape(result.Run.ParentRunId ?? "")})");
            return RunCommand.ExitCode(run);
        }));
        return command;
    }
}
