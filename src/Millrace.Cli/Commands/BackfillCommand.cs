using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Millrace.Cli.Output;
using Millrace.Engine;
using Millrace.Engine.Dates;
using Millrace.Parameters;
using Millrace.Storage;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace backfill &lt;pipeline&gt; --from D --to D [--max-active N] [--rerun-succeeded | --only S,S] [--dry-run]</c>: one run
/// per date (as <c>run.date</c>), skipping dates that already succeeded (with <c>--only</c>: exactly the dates whose
/// <c>millrace status</c> is listed), planned and run by the in-process coordinator (the
/// API's backfill plans the same way). At most the pipeline's <c>max_active</c> dates run at once; a date that loses
/// a commit race to a parallel date runs again.
/// </summary>
public static class BackfillCommand
{
    public static Command Create(CliContext context)
    {
        var target = new Argument<string>("pipeline") { Description = "Pipeline (or workflow) to run for each date." };
        var from = new Option<string>("--from") { Description = "First date, yyyy-MM-dd.", Required = true };
        var to = new Option<string>("--to") { Description = "Last date, yyyy-MM-dd (inclusive).", Required = true };
        var maxActive = new Option<int>("--max-active") { Description = "Dates run at once (default 1; at most the pipeline's concurrency.max_active).", DefaultValueFactory = _ => 1 };
        var rerunSucceeded = new Option<bool>("--rerun-succeeded") { Description = "Also run dates that already have a succeeded run." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the dates the backfill would run, with their status, and run nothing." };
        var only = new Option<string?>("--only")
        {
            Description = $"Run only the dates whose status ('millrace status') is in this comma-separated list: {string.Join(", ", DateStatusNames.Backfillable.Select(DateStatusNames.Name))}.",
        };
        var command = new Command("backfill", "Run a pipeline once per date in a range (run.date = each date), skipping dates already succeeded.");
        command.Arguments.Add(target);
        foreach (var option in new Option[] { from, to, maxActive, rerunSucceeded, only, dryRun }) command.Options.Add(option);
        command.SetAction(context.Guard(async (parse, ct) =>
        {
            var first = StatusCommand.ParseDate(parse.GetValue(from)!, "--from");
            var last = StatusCommand.ParseDate(parse.GetValue(to)!, "--to");
            if (last < first) throw new CliException("--to is before --from", CliApp.UsageError);
            var parallel = parse.GetValue(maxActive);
            if (parallel is < 1 or > 64) throw new CliException("--max-active must be between 1 and 64", CliApp.UsageError);
            if (context.Variables.Any(v => v.Key == BuiltInParameters.RunDate)) throw new CliException("backfill sets run.date itself; do not pass --var run.date", CliApp.UsageError);
            if (last.DayNumber - first.DayNumber >= RunCoordinator.MaxBackfillDates) throw new CliException($"a backfill covers at most {RunCoordinator.MaxBackfillDates} dates", CliApp.UsageError);
            IReadOnlySet<DateStatus>? statuses = null;
            if (parse.GetValue(only) is { } onlyText)
            {
                try { statuses = DateStatusNames.ParseList(onlyText, DateStatusNames.Backfillable); }
                catch (FormatException e) { throw new CliException($"--only: {e.Message}", CliApp.UsageError); }
                if (parse.GetValue(rerunSucceeded)) throw new CliException("--only and --rerun-succeeded do not combine; add succeeded to --only instead", CliApp.UsageError);
            }
            var name = parse.GetValue(target)!;

            var project = context.OpenProject(parse);
            await using var store = await CliContext.OpenStoreAsync(parse, project, ct);
            using var logging = context.Logging(parse);
            var coordinator = context.Coordinator(project, store, logging.CreateLogger("Millrace"));
            BackfillPlan plan;
            try { plan = await coordinator.PlanBackfillAsync(name, first, last, context.Variables, parse.GetValue(rerunSucceeded), ct, statuses); }
            catch (RunRequestException e) { throw new CliException(e.Message, CliApp.UsageError); }

            var console = Terminal.For(context);
            var effective = coordinator.EffectiveParallelism(name, parallel);
            var capped = effective < parallel ? $" (--max-active {parallel} is capped by the pipeline's concurrency.max_active {effective})" : "";
            var leftOut = plan.Only is null ? $"{plan.Succeeded.Count} already succeeded (skipped)"
                : $"{plan.LeftOut.Count} left out (--only {string.Join(",", plan.Only.Order().Select(DateStatusNames.Name))})";
            console.MarkupLine(Markup.Escape($"backfill of '{name}': {plan.Dates.Count} date(s) to run, {leftOut}, {effective} at a time{capped}"));

            if (parse.GetValue(dryRun))
            {
                foreach (var date in plan.Dates)
                    console.MarkupLine(Markup.Escape($"  {date:yyyy-MM-dd}  {DateStatusNames.Name(plan.Statuses.GetValueOrDefault(date))}"));
                console.MarkupLine("dry run: nothing was run");
                return CliApp.Success;
            }

            var skipped = plan.Succeeded.Count + plan.LeftOut.Count;
            IReadOnlyList<RunResult> finished = [];
            async Task RunAllAsync(Action advance) => finished = await coordinator.BackfillAsync(plan, parallel, new RunRequestInfo(RequestedBy: "cli backfill"), (date, result) =>
            {
                var run = result.Run;
                if (!context.Interactive)
                    context.Output.WriteLine($"{date:yyyy-MM-dd}: run {run.Id} {run.Status.Label()} in {Terminal.Duration(run.Duration)}{(run.Error is null ? "" : ": " + run.Error)}");
                advance();
            }, ct);

            if (context.Interactive && plan.Dates.Count > 0)
                await console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .StartAsync(async progress =>
                    {
                        var task = progress.AddTask($"backfill {Markup.Escape(name)}", maxValue: plan.Dates.Count);
                        await RunAllAsync(() => task.Increment(1));
                    });
            else await RunAllAsync(() => { });

            var results = finished.Select(r => r.Run).ToList();
            var failed = results.Where(r => !r.Status.IsSuccess()).OrderBy(r => r.RunDate).ToList();
            console.MarkupLine(Markup.Escape($"backfill done: {results.Count - failed.Count} succeeded, {failed.Count} failed, {skipped} skipped"));
            foreach (var run in failed) console.MarkupLine(Markup.Escape($"  {run.RunDate:yyyy-MM-dd}: run {run.Id} {run.Status.ToString().ToLowerInvariant()}: {run.Error}"));
            return failed.Count == 0 ? CliApp.Success : CliApp.Failure;
        }));
        return command;
    }
}
