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
/// runs the daily loop over simulated days as the server would (the prediction pipeline started by its landing trigger,
/// deadlines checked, the nightly training), showing progress and a summary (<see cref="QuickstartLoop"/>).
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
        var storeOption = new Option<string?>("--store") { Description = "Metadata store for the sample (default: SQLite in the project); e.g. postgres://user:pass@host/db. It must be empty." };
        var lakeOption = new Option<string?>("--lake") { Description = "Lake for the sample (default: ./lake in the project); e.g. s3://bucket/prefix (endpoint and keys from the AWS_* variables). It should be empty." };
        var urls = new Option<string>("--urls") { Description = $"Where to serve the sample after the loop (default {Millrace.Server.ServerOptions.DefaultUrls}).", DefaultValueFactory = _ => Millrace.Server.ServerOptions.DefaultUrls };
        var command = new Command("quickstart", "Create the churn sample with a generated lake and run the daily loop over simulated days.");
        foreach (var option in new Option[] { directory, days, start, customers, storeOption, lakeOption, noServe, urls }) command.Options.Add(option);
        command.SetAction(context.Guard(async (parse, ct) =>
        {
            if (!DateOnly.TryParseExact(parse.GetValue(start), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var first))
                throw new CliException($"--start must be a date yyyy-MM-dd, got '{parse.GetValue(start)}'", CliApp.UsageError);
            var dayCount = parse.GetValue(days);
            if (dayCount is < 1 or > 3650) throw new CliException("--days must be between 1 and 3650", CliApp.UsageError);
            var root = Path.GetFullPath(parse.GetValue(directory)!);
            var console = Terminal.For(context);

            Prepare(root, parse.GetValue(storeOption), parse.GetValue(lakeOption), first);
            console.MarkupLine($"[bold]Millrace quickstart[/]: churn sample in {Markup.Escape(root)}, {dayCount} simulated days from {first:yyyy-MM-dd}");

            var project = Project.Open(root);
            // Simulated time: runs, landing polls, deadlines, stale marks and the registry see the simulated days, not today.
            var clock = new SimulatedClock(QuickstartLoop.Start(first));
            await using var store = await MetadataStores.OpenAsync(project, ct, create: true, clock);
            if ((await store.FindRunsAsync(new RunFilter(), new Page(0, 1), ct)).Count > 0)
                throw new CliException("the store named by --store already has runs; the quickstart needs an empty store (a new database)", CliApp.UsageError);
            // The files land where the lake is: the folder, or (S3) the node's cache, from which each day is uploaded.
            var lake = context.OpenLake(project);
            var generator = new ChurnLakeGenerator(lake.Root, seed: 42, initialCustomers: parse.GetValue(customers), injectAnomalies: true, simulationStart: first);
            using var logging = context.Logging(parse);
            var logger = logging.CreateLogger("Millrace");
            var loop = new QuickstartLoop(project, store, lake, context.Coordinator(project, store, logger, clock), clock, context.Node, logger);
            // The lake already holds two weeks of history when Millrace is adopted: the first run ingests the backlog.
            for (var d = -HistoryDays; d < 0; d++) generator.Generate(first.AddDays(d));
            await loop.LandHistoryAsync(ct);
            console.MarkupLine($"lake {Markup.Escape(lake.Storage.Location)}: {HistoryDays} days of history landed before {first:yyyy-MM-dd}; the first run ingests them all");
            console.MarkupLine("each day's files land at 04:00 the next morning; the prediction pipeline's landing trigger starts the date once its feeds have settled");
            var results = new List<QuickstartDay>();
            await WithProgressAsync(context, console, "simulated days", dayCount, async advance =>
            {
                for (var d = 0; d < dayCount; d++)
                {
                    var result = await loop.RunDayAsync(generator, first, d, ct);
                    results.Add(result);
                    if (!context.Interactive) await context.Output.WriteLineAsync(result.Line());
                    advance();
                    if (!result.Succeeded) break;
                }
            });

            QuickstartSummary.PrintDays(console, results);
            await QuickstartSummary.PrintDataAwareAsync(console, store, project.Id, results, ct);
            await QuickstartSummary.PrintModelsAsync(console, store, project.Id, ct);
            if (results.FirstOrDefault(r => !r.Succeeded) is { } failed)
            {
                if (failed.Failed is not { } run)
                    throw new CliException($"the loop stopped on {failed.Day.Date:yyyy-MM-dd}: its prediction run never started: {failed.Waiting} (millrace status prediction -p {root})");
                throw new CliException($"the loop stopped on {failed.Day.Date:yyyy-MM-dd}: run {run.Id} {run.Status.ToString().ToLowerInvariant()}: {run.Error} (millrace run show {run.Id} -p {root})");
            }

            var relative = Path.GetRelativePath(Environment.CurrentDirectory, root);
            console.MarkupLine("");
            console.MarkupLine("[bold]Outputs[/]");
            console.MarkupLine(Markup.Escape($"  project:   {root}"));
            // The lake's own address: the folder, or the bucket (the project folder then holds only a cache of it).
            string InLake(string path) => lake.Storage.IsRemote ? $"{lake.Storage.Location.TrimEnd('/')}/{path}" : Path.Combine(lake.Root, path);
            console.MarkupLine(Markup.Escape($"  datasets:  {InLake("datasets")}  (millrace datasets -p {relative})"));
            console.MarkupLine(Markup.Escape($"  reports:   {InLake("reports")}  (daily_summary/, churn_risk/<day>/index.html, model_churn/<day>/index.html)"));
            console.MarkupLine(Markup.Escape($"  predictions: {InLake("predictions/churn")}"));
            console.MarkupLine(Markup.Escape($"  models:    millrace models show churn -p {relative}"));
            console.MarkupLine(Markup.Escape($"  runs:      millrace runs -p {relative}"));
            if (!parse.GetValue(noServe))
                return await QuickstartServe.ServeAsync(context, parse, root, results.Count > 0 ? results[^1].Day.Date : first, parse.GetValue(urls)!, ct);
            return CliApp.Success;
        }));
        return command;
    }

    /// <summary>
    /// Copies the sample into <paramref name="root"/>, replacing an earlier quickstart (never another folder's content),
    /// with the store and lake asked for.
    /// </summary>
    static void Prepare(string root, string? store, string? lake, DateOnly first)
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
            // The sample's editor lines name the schema files of the repository (docs/schema/), which are not here.
            if (file.EndsWith(".yaml", StringComparison.Ordinal))
                File.WriteAllLines(target, File.ReadLines(file).Where(l => !l.StartsWith("# yaml-language-server:", StringComparison.Ordinal)));
            else File.Copy(file, target);
        }
        // The landing trigger considers dates from the first simulated day; the history before it is the first run's backlog.
        var prediction = Path.Combine(root, "pipelines", "prediction.yaml");
        if (File.Exists(prediction))
            File.WriteAllText(prediction, File.ReadAllText(prediction).Replace("from: 2026-01-01", $"from: {first:yyyy-MM-dd}", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(root, Marker), "made by millrace quickstart; the next quickstart replaces this folder\n");
        var settings = Path.Combine(root, ProjectLoader.ProjectFileName);
        var yaml = File.ReadAllText(settings);
        if (lake is not null) yaml = yaml.Replace("lake: ./lake", $"lake: '{lake.Replace("'", "''")}'", StringComparison.Ordinal);
        if (store is not null) yaml += $"store: '{store.Replace("'", "''")}'\n";
        File.WriteAllText(settings, yaml);
        var errors = Project.Check(root).Errors;
        if (errors.Count > 0) throw new CliException($"--store/--lake: {errors[0]}", CliApp.UsageError);
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

    /// <summary>Days of history the lake holds before the first simulated day.</summary>
    const int HistoryDays = 14;
}
