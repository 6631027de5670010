using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Millrace.Cli.Output;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Samples.Churn;
using Millrace.Storage;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace quickstart</c>: copies the churn sample into a folder, generates its lake over simulated days, and
/// runs the daily loop (ingestion, then preparation, per day) as the scheduler would, showing progress and a summary.
/// </summary>
public static class QuickstartCommand
{
    const string Marker = ".millrace-quickstart";

    public static Command Create(CliContext context)
    {
        var directory = new Option<string>("--dir") { Description = "Folder for the sample project (default: ./quickstart). An earlier quickstart there is replaced.", DefaultValueFactory = _ => "quickstart" };
        var days = new Option<int>("--days") { Description = "Simulated days (default 30).", DefaultValueFactory = _ => 30 };
        var start = new Option<string>("--start") { Description = "First simulated day, yyyy-MM-dd (default 2026-01-01).", DefaultValueFactory = _ => "2026-01-01" };
        var customers = new Option<int>("--customers") { Description = "Customers on the first day (default 2000).", DefaultValueFactory = _ => 2000 };
        var noServe = new Option<bool>("--no-serve") { Description = "Stop after the loop instead of serving the UI and API." };
        var command = new Command("quickstart", "Create the churn sample with a generated lake and run the daily loop over simulated days.");
        foreach (var option in new Option[] { directory, days, start, customers, noServe }) command.Options.Add(option);
        command.SetAction(context.Guard(async (parse, ct) =>
        {
            if (!DateOnly.TryParseExact(parse.GetValue(start), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var first))
                throw new CliException($"--start must be a date yyyy-MM-dd, got '{parse.GetValue(start)}'", CliApp.UsageError);
            var dayCount = parse.GetValue(days);
            if (dayCount is < 1 or > 3650) throw new CliException("--days must be between 1 and 3650", CliApp.UsageError);
            var root = Path.GetFullPath(parse.GetValue(directory)!);
            var console = Terminal.For(context);

            Prepare(root);
            console.MarkupLine($"[bold]Millrace quickstart[/]: churn sample in {Markup.Escape(root)}, {dayCount} simulated days from {first:yyyy-MM-dd}");

            var generator = new ChurnLakeGenerator(Path.Combine(root, "lake"), seed: 42, initialCustomers: parse.GetValue(customers));
            var project = Project.Open(root);
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            using var logging = context.Logging(parse);
            var runner = new Runner(project, store, logger: logging.CreateLogger("Millrace"));
            var results = new List<(ChurnDay Day, Run Ingestion, Run? Preparation)>();
            // Each simulated day: the day's files land in raw/, then the daily pipelines run as their schedules would.
            await WithProgressAsync(context, console, "simulated days", dayCount, async advance =>
            {
                for (var d = 0; d < dayCount; d++)
                {
                    var day = generator.Generate(first.AddDays(d));
                    var variables = new[] { new KeyValuePair<string, string>("run.date", day.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)) };
                    var ingestion = await runner.RunAsync(new RunRequest("ingestion", variables, TriggerKind.Schedule), null, ct);
                    var preparation = ingestion.Status == RunStatus.Succeeded ? await runner.RunAsync(new RunRequest("preparation", variables, TriggerKind.Schedule), null, ct) : null;
                    results.Add((day, ingestion, preparation));
                    if (!context.Interactive)
                        await context.Output.WriteLineAsync($"day {day.Date:yyyy-MM-dd}: {day.Events:N0} events landed; ingestion {Status(ingestion)} {Terminal.Duration(ingestion.Duration)}, preparation {Status(preparation)} {Terminal.Duration(preparation?.Duration)}");
                    advance();
                    if (preparation?.Status != RunStatus.Succeeded) break;
                }
            });

            await PrintSummaryAsync(console, store, results, ct);
            var failed = results.FirstOrDefault(r => r.Ingestion.Status != RunStatus.Succeeded || r.Preparation?.Status != RunStatus.Succeeded);
            if (failed.Ingestion is not null)
            {
                var run = failed.Ingestion.Status != RunStatus.Succeeded ? failed.Ingestion : failed.Preparation!;
                throw new CliException($"the loop stopped on {failed.Day.Date:yyyy-MM-dd}: run {run.Id} {run.Status.ToString().ToLowerInvariant()}: {run.Error} (millrace run show {run.Id} -p {root})");
            }

            var relative = Path.GetRelativePath(Environment.CurrentDirectory, root);
            console.MarkupLine("");
            console.MarkupLine("[bold]Outputs[/]");
            console.MarkupLine(Markup.Escape($"  project:   {root}"));
            console.MarkupLine(Markup.Escape($"  datasets:  {Path.Combine(root, "lake", "datasets")}  (millrace datasets -p {relative})"));
            console.MarkupLine(Markup.Escape($"  reports:   {Path.Combine(root, "lake", "reports", "daily_summary")}"));
            console.MarkupLine(Markup.Escape($"  runs:      millrace runs -p {relative}"));
            if (!parse.GetValue(noServe))
                console.MarkupLine("[grey]The web UI and API (millrace serve) are not part of this build yet; the loop is done. Pass --no-serve to skip this note.[/]");
            return CliApp.Success;
        }));
        return command;
    }

    static string Status(Run? run) => run?.Status.ToString().ToLowerInvariant() ?? "not run";

    /// <summary>Copies the sample into <paramref name="root"/>, replacing an earlier quickstart (never another folder's content).</summary>
    static void Prepare(string root)
    {
        if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
        {
            if (!File.Exists(Path.Combine(root, Marker)))
                throw new CliException($"{root} exists and is not an earlier quickstart; choose another --dir");
            Directory.Delete(root, recursive: true);
        }
        var sample = Path.Combine(AppContext.BaseDirectory, "samples", "churn");
        if (!File.Exists(Path.Combine(sample, ProjectLoader.ProjectFileName)))
            throw new CliException($"the churn sample is missing from {sample}; rebuild Millrace");
        foreach (var file in Directory.EnumerateFiles(sample, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(root, Path.GetRelativePath(sample, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        File.WriteAllText(Path.Combine(root, Marker), "made by millrace quickstart; the next quickstart replaces this folder\n");
    }

    static async Task WithProgressAsync(CliContext context, IAnsiConsole console, string title, int total, Func<Action, Task> work)
    {
        if (!context.Interactive)
        {
            await context.Output.WriteLineAsync($"{title}…");
            await work(() => { });
            return;
        }
        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask(title, maxValue: total);
                await work(() => task.Increment(1));
            });
    }

    static async Task PrintSummaryAsync(IAnsiConsole console, IMetadataStore store, List<(ChurnDay Day, Run Ingestion, Run? Preparation)> results, CancellationToken ct)
    {
        var table = new Table().Title("simulated days").AddColumns("day", "events", "customer rows", "churned", "active", "ingestion", "preparation", "features rows");
        foreach (var (day, ingestion, preparation) in results)
        {
            long? features = null;
            if (preparation is not null)
                features = (await store.GetStepRunsAsync(preparation.Id, ct)).FirstOrDefault(s => s.StepId == "features")?.Rows;
            table.AddRow(day.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), Terminal.Rows(day.Events), Terminal.Rows(day.CustomerChanges),
                Terminal.Rows(day.Churned), Terminal.Rows(day.ActiveCustomers),
                $"{Terminal.StatusMarkup(ingestion.Status)} {Terminal.Duration(ingestion.Duration)}",
                preparation is null ? "" : $"{Terminal.StatusMarkup(preparation.Status)} {Terminal.Duration(preparation.Duration)}",
                Terminal.Rows(features));
        }
        console.Write(table);
        var datasets = await store.ListDatasetsAsync(ct);
        console.MarkupLine(Markup.Escape("datasets: " + string.Join(", ", datasets.Select(d => $"{d.Dataset} v{d.Version} ({d.Rows:N0} rows)"))));
    }
}
