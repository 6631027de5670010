using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Millrace.Cli.Output;
using Millrace.Engine;
using Millrace.Parameters;
using Millrace.Storage;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace backfill &lt;pipeline&gt; --from D --to D [--max-active N] [--rerun-succeeded]</c>: one run per date
/// (as <c>run.date</c>), skipping dates that already succeeded. Runs that lose a commit race to a parallel run of the
/// same backfill are retried.
/// </summary>
public static class BackfillCommand
{
    const int ConflictAttempts = 10;

    public static Command Create(CliContext context)
    {
        var target = new Argument<string>("pipeline") { Description = "Pipeline (or workflow) to run for each date." };
        var from = new Option<string>("--from") { Description = "First date, yyyy-MM-dd.", Required = true };
        var to = new Option<string>("--to") { Description = "Last date, yyyy-MM-dd (inclusive).", Required = true };
        var maxActive = new Option<int>("--max-active") { Description = "Dates run at once (default 1).", DefaultValueFactory = _ => 1 };
        var rerunSucceeded = new Option<bool>("--rerun-succeeded") { Description = "Also run dates that already have a succeeded run." };
        var command = new Command("backfill", "Run a pipeline once per date in a range (run.date = each date), skipping dates already succeeded.");
        command.Arguments.Add(target);
        foreach (var option in new Option[] { from, to, maxActive, rerunSucceeded }) command.Options.Add(option);
        command.SetAction(context.Guard(async (parse, ct) =>
        {
            var first = ParseDate(parse.GetValue(from)!, "--from");
            var last = ParseDate(parse.GetValue(to)!, "--to");
            if (last < first) throw new CliException("--to is before --from", CliApp.UsageError);
            var parallel = parse.GetValue(maxActive);
            if (parallel is < 1 or > 64) throw new CliException("--max-active must be between 1 and 64", CliApp.UsageError);
            if (context.Variables.Any(v => v.Key == BuiltInParameters.RunDate)) throw new CliException("backfill sets run.date itself; do not pass --var run.date", CliApp.UsageError);
            var name = parse.GetValue(target)!;

            var project = context.OpenProject(parse);
            await using var store = await CliContext.OpenStoreAsync(parse, project, ct);
            using var logging = context.Logging(parse);
            var runner = context.NewRunner(project, store, logging.CreateLogger("Millrace"));
            try { runner.DeclaredParameters(name); }
            catch (RunRequestException e) { throw new CliException(e.Message, CliApp.UsageError); }

            var dates = new List<DateOnly>();
            var skipped = 0;
            for (var date = first; date <= last; date = date.AddDays(1))
            {
                var done = await store.FindRunsAsync(new RunFilter(project.Id, name, RunStatus.Succeeded, date), new Page(0, 1), ct);
                if (done.Count > 0 && !parse.GetValue(rerunSucceeded)) { skipped++; continue; }
                dates.Add(date);
            }
            var console = Terminal.For(context);
            console.MarkupLine(Markup.Escape($"backfill of '{name}': {dates.Count} date(s) to run, {skipped} already succeeded (skipped), {parallel} at a time"));

            var results = new List<Run>();
            var gate = new SemaphoreSlim(parallel);
            async Task RunDateAsync(DateOnly date, Action advance)
            {
                await gate.WaitAsync(ct);
                try
                {
                    var variables = context.Variables.Append(new(BuiltInParameters.RunDate, date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))).ToList();
                    Run run;
                    var attempt = 0;
                    while (true)
                    {
                        run = await runner.RunAsync(new RunRequest(name, variables, TriggerKind.Backfill), null, ct);
                        if (run.Status != RunStatus.Failed || run.Error?.Contains(CommitConflictException.Marker, StringComparison.Ordinal) != true || ++attempt >= ConflictAttempts) break;
                        // Another date committed the same dataset first: wait a random moment, so the dates that
                        // collided do not collide again in lockstep, and run this one again on the new version.
                        await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(20, 200) * attempt), ct);
                    }
                    lock (results) results.Add(run);
                    if (!context.Interactive)
                        await context.Output.WriteLineAsync($"{date:yyyy-MM-dd}: run {run.Id} {run.Status.ToString().ToLowerInvariant()} in {Terminal.Duration(run.Duration)}{(run.Error is null ? "" : ": " + run.Error)}");
                    advance();
                }
                finally
                {
                    gate.Release();
                }
            }

            if (context.Interactive && dates.Count > 0)
                await console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .StartAsync(async progress =>
                    {
                        var task = progress.AddTask($"backfill {Markup.Escape(name)}", maxValue: dates.Count);
                        await Task.WhenAll(dates.Select(d => RunDateAsync(d, () => task.Increment(1))));
                    });
            else await Task.WhenAll(dates.Select(d => RunDateAsync(d, () => { })));

            var failed = results.Where(r => r.Status != RunStatus.Succeeded).OrderBy(r => r.RunDate).ToList();
            console.MarkupLine(Markup.Escape($"backfill done: {results.Count - failed.Count} succeeded, {failed.Count} failed, {skipped} skipped"));
            foreach (var run in failed) console.MarkupLine(Markup.Escape($"  {run.RunDate:yyyy-MM-dd}: run {run.Id} {run.Status.ToString().ToLowerInvariant()}: {run.Error}"));
            return failed.Count == 0 ? CliApp.Success : CliApp.Failure;
        }));
        return command;
    }

    static DateOnly ParseDate(string text, string option) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw new CliException($"{option} must be a date yyyy-MM-dd, got '{text}'", CliApp.UsageError);
}
