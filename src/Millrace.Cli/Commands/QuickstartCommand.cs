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

            Prepare(root, parse.GetValue(storeOption), parse.GetValue(lakeOption));
            console.MarkupLine($"[bold]Millrace quickstart[/]: churn sample in {Markup.Escape(root)}, {dayCount} simulated days from {first:yyyy-MM-dd}");

            var project = Project.Open(root);
            await using var store = await CliContext.OpenStoreAsync(project, ct, create: true);
            if ((await store.FindRunsAsync(new RunFilter(), new Page(0, 1), ct)).Count > 0)
                throw new CliException("the store named by --store already has runs; the quickstart needs an empty store (a new database)", CliApp.UsageError);
            // The files land where the lake is: the folder, or (S3) the node's cache, from which each day is uploaded.
            var lake = context.OpenLake(project);
            var landing = new Landing(lake);
            var generator = new ChurnLakeGenerator(lake.Root, seed: 42, initialCustomers: parse.GetValue(customers), injectAnomalies: true, simulationStart: first);
            // The lake already holds two weeks of history when Millrace is adopted: the first run ingests the backlog.
            for (var d = -HistoryDays; d < 0; d++) generator.Generate(first.AddDays(d));
            await landing.UploadAsync(ct);
            console.MarkupLine($"lake {Markup.Escape(lake.Storage.Location)}: {HistoryDays} days of history landed before {first:yyyy-MM-dd}; the first run ingests them all");
            using var logging = context.Logging(parse);
            var coordinator = context.Coordinator(project, store, logging.CreateLogger("Millrace"));
            var info = new RunRequestInfo(RequestedBy: "quickstart");
            var results = new List<DayResult>();
            // Each simulated day: the day's files land in raw/, the prediction pipeline runs (ingest, merge, score
            // with the champion, reports) as its 06:00 schedule would, then the nightly training with its gate, once
            // enough days have passed for churn outcomes to be known.
            await WithProgressAsync(context, console, "simulated days", dayCount, async advance =>
            {
                for (var d = 0; d < dayCount; d++)
                {
                    var day = generator.Generate(first.AddDays(d));
                    await landing.UploadAsync(ct);
                    var variables = new[] { new KeyValuePair<string, string>("run.date", day.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)) };
                    var prediction = (await coordinator.SubmitAsync(new RunRequest("prediction", variables, TriggerKind.Schedule), info, null, ct)).Final.Run;
                    Run? training = null;
                    if (prediction.Status.IsSuccess() && d >= TrainingStartDay)
                        training = (await coordinator.SubmitAsync(new RunRequest("training", variables, TriggerKind.Schedule), info, null, ct)).Final.Run;
                    var result = await DayResult.ReadAsync(store, day, prediction, training, ct);
                    results.Add(result);
                    if (!context.Interactive) await context.Output.WriteLineAsync(result.Line());
                    advance();
                    if (!prediction.Status.IsSuccess() || training is { Status: not (RunStatus.Succeeded or RunStatus.UpToDate) }) break;
                }
            });

            PrintSummary(console, results);
            await PrintModelsAsync(console, store, ct);
            var failed = results.FirstOrDefault(r => !r.Prediction.Status.IsSuccess() || r.Training is { Status: not (RunStatus.Succeeded or RunStatus.UpToDate) });
            if (failed is not null)
            {
                var run = !failed.Prediction.Status.IsSuccess() ? failed.Prediction : failed.Training!;
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

    static string Status(Run? run) => run?.Status.Label() ?? "not run";

    /// <summary>On an S3 lake, uploads the landing files the generator wrote into the cache since the last call.</summary>
    sealed class Landing(Millrace.Lake.LakeRoot lake)
    {
        readonly HashSet<string> _uploaded = new(StringComparer.Ordinal);

        public async Task UploadAsync(CancellationToken ct)
        {
            if (!lake.Storage.IsRemote) return;
            var raw = Path.Combine(lake.Root, "raw");
            var fresh = Directory.EnumerateFiles(raw, "*", SearchOption.AllDirectories).Select(lake.ToRelative).Where(_uploaded.Add).ToList();
            await lake.Storage.UploadAsync(fresh, ct);
        }
    }

    /// <summary>
    /// Copies the sample into <paramref name="root"/>, replacing an earlier quickstart (never another folder's content),
    /// with the store and lake asked for.
    /// </summary>
    static void Prepare(string root, string? store, string? lake)
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

    /// <summary>The first day (0-based) the nightly training runs: churn outcomes need the label horizon (14 days) to be known.</summary>
    const int TrainingStartDay = 16;

    /// <summary>Days of history the lake holds before the first simulated day.</summary>
    const int HistoryDays = 14;

    /// <summary>What one simulated day did, read back from the run records.</summary>
    sealed record DayResult(ChurnDay Day, Run Prediction, Run? Training, long? Scored, string? Model, IReadOnlyList<Anomaly> Anomalies)
    {
        public static async Task<DayResult> ReadAsync(IMetadataStore store, ChurnDay day, Run prediction, Run? training, CancellationToken ct)
        {
            var scored = (await store.GetStepRunsAsync(prediction.Id, ct)).FirstOrDefault(s => s.StepId == "scored")?.Rows;
            string? model = null;
            if (training is not null && (await store.GetStepRunsAsync(training.Id, ct)).FirstOrDefault(s => s.Kind == "train") is { DetailsJson: { } json })
            {
                using var details = System.Text.Json.JsonDocument.Parse(json);
                var root = details.RootElement;
                model = root.TryGetProperty("up_to_date", out var upToDate) ? upToDate.GetString()
                    : root.TryGetProperty("registered", out var registered) && !registered.GetBoolean()
                    ? string.Create(CultureInfo.InvariantCulture, $"no new version: same training inputs as v{root.GetProperty("version").GetInt32()}")
                    : string.Create(CultureInfo.InvariantCulture,
                        $"v{root.GetProperty("version").GetInt32()} auc {root.GetProperty("value").GetDouble():0.000} {(root.GetProperty("promoted").GetBoolean() ? "promoted" : "kept as challenger")}");
            }
            var anomalies = (await store.FindAnomaliesAsync(prediction.Id, new Page(0, 100), ct)).ToList();
            if (training is not null) anomalies.AddRange(await store.FindAnomaliesAsync(training.Id, new Page(0, 100), ct));
            return new DayResult(day, prediction, training, scored, model, anomalies);
        }

        public string Line() =>
            $"day {Day.Date:yyyy-MM-dd}: {Day.Events:N0} events landed; prediction {Prediction.Status.Label()} {Terminal.Duration(Prediction.Duration)}" +
            (Scored is { } s ? $", {s:N0} customers scored" : "") +
            (Training is null ? "" : $"; training {Training.Status.Label()} {Terminal.Duration(Training.Duration)}{(Model is null ? "" : ": " + Model)}") +
            (Anomalies.Count == 0 ? "" : $"; anomalies: {Kinds}");

        public string Kinds => string.Join(", ", Anomalies.GroupBy(a => a.Kind).Select(g => g.Count() == 1 ? g.Key : $"{g.Key} x{g.Count()}"));
    }

    static void PrintSummary(IAnsiConsole console, List<DayResult> results)
    {
        var table = new Table().Title("simulated days").AddColumns("day", "events", "churned", "active", "prediction", "scored", "training", "model", "anomalies");
        foreach (var r in results)
            table.AddRow(r.Day.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), Terminal.Rows(r.Day.Events), Terminal.Rows(r.Day.Churned), Terminal.Rows(r.Day.ActiveCustomers),
                $"{Terminal.StatusMarkup(r.Prediction.Status)} {Terminal.Duration(r.Prediction.Duration)}", Terminal.Rows(r.Scored),
                r.Training is null ? "" : $"{Terminal.StatusMarkup(r.Training.Status)} {Terminal.Duration(r.Training.Duration)}", Markup.Escape(r.Model ?? ""),
                r.Anomalies.Count == 0 ? "" : $"[yellow]{Markup.Escape(r.Kinds)}[/]");
        console.Write(table);

        // What the generator planted, and whether the loop caught it on its day.
        var planted = new Table().Title("planted anomalies").AddColumns("day", "planted", "detected that day");
        foreach (var anomaly in ChurnLakeGenerator.Anomalies.Where(a => a.Day < results.Count))
        {
            var found = results[anomaly.Day].Anomalies.Reverse().Where(a => a.Kind.Contains(anomaly.Kind, StringComparison.Ordinal) || (anomaly.Kind == "drift" && a.Kind == "prediction_drift")).ToList();
            planted.AddRow(results[anomaly.Day].Day.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), Markup.Escape($"{anomaly.Kind}: {anomaly.Description}"),
                found.Count == 0 ? (anomaly.Kind == "drift" && results[anomaly.Day].Training is null && results[anomaly.Day].Scored == 0 ? "[grey]no champion yet to compare with[/]" : "[red]no[/]") : $"[green]yes[/]: {Markup.Escape(found[0].Message)}");
        }
        console.Write(planted);
        // A drift lasts: after the price rise, every day differs from what the champion learnt, until it is retrained on it.
        var driftDay = ChurnLakeGenerator.Anomalies.Single(a => a.Kind == "drift").Day;
        var clean = results.Where((r, i) => !ChurnLakeGenerator.Anomalies.Any(a => a.Day == i)
            && r.Anomalies.Any(a => !(i > driftDay && a.Kind is "drift" or "prediction_drift"))).ToList();
        console.MarkupLine(clean.Count == 0
            ? "no anomaly reported on the clean days"
            : $"[yellow]{clean.Count} clean day(s) with anomalies:[/] {Markup.Escape(string.Join("; ", clean.Select(c => $"{c.Day.Date:yyyy-MM-dd} {c.Kinds}")))}");
    }

    static async Task PrintModelsAsync(IAnsiConsole console, IMetadataStore store, CancellationToken ct)
    {
        var datasets = await store.ListDatasetsAsync(ct);
        console.MarkupLine(Markup.Escape("datasets: " + string.Join(", ", datasets.Select(d => $"{d.Dataset} v{d.Version} ({d.Rows:N0} rows)"))));
        var versions = await store.ListModelVersionsAsync("churn", ct);
        if (versions.Count == 0) { console.MarkupLine("no model trained yet (training starts on day " + (TrainingStartDay + 1) + ")"); return; }
        var aliases = await store.GetAliasesAsync("churn", ct);
        console.MarkupLine(Markup.Escape($"model churn: {versions.Count} version(s); " + string.Join(", ", aliases.Select(a => $"{a.Key} = v{a.Value}"))));
        foreach (var entry in (await store.GetAliasHistoryAsync("churn", ct)).Reverse())
            console.MarkupLine(Markup.Escape($"  {entry.At:yyyy-MM-dd HH:mm:ss} {entry.Alias} -> v{entry.Version}: {entry.Reason}"));
    }
}
