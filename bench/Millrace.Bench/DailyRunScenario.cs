using System.Diagnostics;
using System.Globalization;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Reports;
using Millrace.Samples.Churn;
using Millrace.Storage;

namespace Millrace.Bench;

/// <summary>
/// Runs the churn sample day by day, as the scheduler would: each day's drop lands, then the prediction pipeline
/// (ingest + merge, prepare, score with the champion, insights reports). A model is trained once, after day
/// <see cref="TrainingDay"/> (not timed), so every later day scores. Measures the time per daily run and how it grows
/// with the history: a continuous system must cost what the new day costs. Every step's time is kept, so the steps
/// that grow with the history show up (the profile behind the figure).
/// </summary>
public static class DailyRunScenario
{
    /// <summary>The day after which the training pipeline runs once (its features need 14 days of outcomes).</summary>
    public const int TrainingDay = 20;

    public static async Task RunAsync(int days, int customers, int replays, string output, string? plot, TextWriter log)
    {
        var root = Path.Combine(Path.GetTempPath(), "millrace-bench", "daily-" + Guid.NewGuid().ToString("N")[..8]);
        CopySample(Path.Combine(AppContext.BaseDirectory, "samples", "churn"), root);
        var generator = new ChurnLakeGenerator(Path.Combine(root, "lake"), seed: 42, initialCustomers: customers);
        var project = Project.Open(root);
        await using var store = await MetadataStores.OpenAsync(project, CancellationToken.None);
        var runner = new Runner(project, store);
        var start = new DateOnly(2026, 1, 1);
        var rows = new List<(int Day, long Events, double Ingestion, double Preparation, long HistoryRows)>();
        var steps = new List<(int Day, string Step, double Milliseconds)>();
        log.WriteLine($"daily-run benchmark: {days} days, {customers} customers at start, model trained after day {TrainingDay}, project in {root}");
        const int FirstCheckpoint = 30;
        var snapshots = new Dictionary<int, string>();
        for (var d = 0; d <= days; d++)
        {
            var day = generator.Generate(start.AddDays(d));
            // The day after a snapshot lands in the snapshot's lake too, for the replays below.
            if (snapshots.TryGetValue(d, out var snapshot)) CopyDrop(root, snapshot, day.Date);
            if (d == days) break;
            var variables = new[] { new KeyValuePair<string, string>("run.date", day.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)) };
            var run = await runner.RunAsync(new RunRequest("prediction", variables, TriggerKind.Schedule));
            if (run.Status != RunStatus.Succeeded)
                throw new InvalidOperationException($"day {day.Date}: {run.Error}\n" + string.Join("\n", (await store.GetLogsAsync(run.Id, CancellationToken.None)).Where(l => l.Level == "error").Select(l => l.Message)));
            var ingest = (await store.GetWorkflowRunsAsync(run.Id, CancellationToken.None)).Single(w => w.Workflow == "ingest");
            var ingestion = (ingest.EndedAt - ingest.StartedAt)!.Value;
            // The run's own time: a drift-triggered retraining that the runner starts right after it is another run.
            var preparation = PipelineTime(run) - ingestion;
            var history = (await store.GetDatasetVersionAsync("events", null, CancellationToken.None))!.Rows;
            rows.Add((d + 1, day.Events, ingestion.TotalMilliseconds, preparation.TotalMilliseconds, history));
            steps.AddRange((await store.GetStepRunsAsync(run.Id, CancellationToken.None))
                .Where(s => s.Duration is not null)
                .Select(s => (d + 1, $"{s.Workflow}.{s.StepId}", s.Duration!.Value.TotalMilliseconds)));
            if (replays > 0 && (d + 1 == FirstCheckpoint || d + 1 == days)) snapshots[d + 1] = Snapshot(root, d + 1);
            if ((d + 1) % 30 == 0) log.WriteLine($"  day {d + 1}: ingestion {ingestion.TotalMilliseconds:0} ms, the rest {preparation.TotalMilliseconds:0} ms, events history {history:N0} rows");
            if (d + 1 == TrainingDay)
            {
                var training = await runner.RunAsync(new RunRequest("training", variables, TriggerKind.Schedule));
                if (training.Status != RunStatus.Succeeded) throw new InvalidOperationException($"training after day {d + 1}: {training.Error}");
            }
        }

        var retrainings = (await store.FindRunsAsync(new RunFilter(Target: "training"), new Page(0, 10_000), CancellationToken.None)).Count(r => r.Trigger == TriggerKind.Drift);
        log.WriteLine($"drift (PSI >= 0.3) asked for {retrainings} retraining run(s) over {days} days; they run after the day's run and are not timed");
        var csv = Path.Combine(output, "daily-run.csv");
        await File.WriteAllLinesAsync(csv, ["day,new_events,ingestion_ms,preparation_ms,total_ms,history_rows",
            .. rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Day},{r.Events},{r.Ingestion:0.0},{r.Preparation:0.0},{r.Ingestion + r.Preparation:0.0},{r.HistoryRows}"))]);
        await File.WriteAllLinesAsync(Path.Combine(output, "daily-steps.csv"), ["day,step,ms",
            .. steps.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Day},{s.Step},{s.Milliseconds:0.0}"))]);

        // Medians over a 10-day window ending at each checkpoint: single days are noisy on a shared 2-core machine.
        log.WriteLine();
        log.WriteLine("| history (days) | events in history | ingestion + merge (ms, median of 10 days) | prepare, score, insights (ms) | daily run (ms) |");
        log.WriteLine("| ---: | ---: | ---: | ---: | ---: |");
        var checkpoints = new[] { 30, 90, 180 }.Where(c => c <= days).ToList();
        var medians = new Dictionary<int, double>();
        foreach (var checkpoint in checkpoints)
        {
            var window = rows.Where(r => InWindow(r.Day, checkpoint)).ToList();
            var total = BenchResults.Median(window.Select(r => r.Ingestion + r.Preparation));
            medians[checkpoint] = total;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {checkpoint} | {window[^1].HistoryRows:N0} | {BenchResults.Median(window.Select(r => r.Ingestion)):0} | {BenchResults.Median(window.Select(r => r.Preparation)):0} | {total:0} |"));
        }
        if (checkpoints.Count > 1 && checkpoints[0] == FirstCheckpoint)
        {
            var last = checkpoints[^1];
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\nratio of the 10-day medians, {last} days / 30 days: {medians[last] / medians[30]:0.00}"));
            PrintStepGrowth(steps, FirstCheckpoint, last, log);
        }
        if (replays > 0 && days > FirstCheckpoint)
        {
            // The same next day on copies of the 30-day and the last-day project, alternately: the load of other
            // processes falls on both, unlike the day-by-day figures, which were taken minutes apart.
            var times = new Dictionary<int, List<double>> { [FirstCheckpoint] = [], [days] = [] };
            for (var r = 0; r < replays; r++)
                foreach (var history in r % 2 == 0 ? new[] { FirstCheckpoint, days } : [days, FirstCheckpoint])
                    times[history].Add(await ReplayAsync(snapshots[history], start.AddDays(history)));
            var (early, late) = (BenchResults.Median(times[FirstCheckpoint]), BenchResults.Median(times[days]));
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"replayed day after {FirstCheckpoint} days: {string.Join(", ", times[FirstCheckpoint].Select(t => t.ToString("0", CultureInfo.InvariantCulture)))} ms; after {days} days: {string.Join(", ", times[days].Select(t => t.ToString("0", CultureInfo.InvariantCulture)))} ms"));
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio daily run after {days} days / after 30 days (median of {replays} interleaved replays): {late / early:0.00} (target <= 1.20)"));
            BenchResults.Add(new BenchFigure("daily", $"daily prediction pipeline (ingest, merge, prepare, score, insights), {customers:N0} customers, {days} vs 30 days of history, median of {replays} interleaved replays",
                $"{late:0} ms at {days} d", $"{early:0} ms at 30 d", late / early, TargetKind.AtMost, 1.20, $"./millrace bench daily --days {days} --customers {customers} --replays {replays}"));
            foreach (var copy in snapshots.Values) TryDelete(copy);
        }
        if (plot is not null) WritePlot(rows, plot, customers, log);
        log.WriteLine($"per-day figures: {csv}");
        TryDelete(root);
    }

    /// <summary>Runs the prediction pipeline for <paramref name="date"/> on a fresh copy of a snapshot; returns its time.</summary>
    static async Task<double> ReplayAsync(string snapshot, DateOnly date)
    {
        var copy = snapshot + "-replay";
        CopyTree(snapshot, copy);
        try
        {
            var project = Project.Open(copy);
            await using var store = await MetadataStores.OpenAsync(project, CancellationToken.None);
            var variables = new[] { new KeyValuePair<string, string>("run.date", date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)) };
            var run = await new Runner(project, store).RunAsync(new RunRequest("prediction", variables, TriggerKind.Schedule));
            if (run.Status != RunStatus.Succeeded) throw new InvalidOperationException($"replay of {date}: {run.Error}");
            return PipelineTime(run).TotalMilliseconds;
        }
        finally
        {
            TryDelete(copy);
        }
    }

    static TimeSpan PipelineTime(Run run) => (run.EndedAt - run.StartedAt)!.Value;

    static string Snapshot(string root, int day)
    {
        var snapshot = $"{root}-after-{day}";
        CopyTree(root, snapshot);
        return snapshot;
    }

    /// <summary>Copies one day's landed files (every <c>dt=date</c> folder under <c>lake/raw</c>) into a snapshot.</summary>
    static void CopyDrop(string root, string snapshot, DateOnly date)
    {
        var folder = "dt=" + date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        foreach (var directory in Directory.EnumerateDirectories(Path.Combine(root, "lake", "raw"), folder, SearchOption.AllDirectories))
            CopyTree(directory, Path.Combine(snapshot, Path.GetRelativePath(root, directory)));
    }

    static void TryDelete(string path)
    {
        try { Directory.Delete(path, recursive: true); } catch (IOException) { }
    }

    static bool InWindow(int day, int checkpoint) => day > checkpoint - 10 && day <= checkpoint;

    /// <summary>The steps whose time grows most between two checkpoints (medians of 10 days): where the history costs.</summary>
    static void PrintStepGrowth(List<(int Day, string Step, double Milliseconds)> steps, int first, int last, TextWriter log)
    {
        var growth = steps.GroupBy(s => s.Step)
            .Select(g => (Step: g.Key,
                First: BenchResults.Median(g.Where(s => InWindow(s.Day, first)).Select(s => s.Milliseconds)),
                Last: BenchResults.Median(g.Where(s => InWindow(s.Day, last)).Select(s => s.Milliseconds))))
            .Where(g => !double.IsNaN(g.First) && !double.IsNaN(g.Last))
            .OrderByDescending(g => g.Last - g.First)
            .Take(10)
            .ToList();
        log.WriteLine();
        log.WriteLine($"| step (workflow.step) | ms at {first} days | ms at {last} days | growth (ms) |");
        log.WriteLine("| --- | ---: | ---: | ---: |");
        foreach (var g in growth)
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {g.Step} | {g.First:0.0} | {g.Last:0.0} | {g.Last - g.First:+0.0;-0.0} |"));
    }

    /// <summary>Draws the plot again from a <c>daily-run.csv</c> that an earlier run wrote.</summary>
    public static void PlotFromCsv(string csv, string path, int customers, TextWriter log)
    {
        var rows = File.ReadLines(csv).Skip(1).Select(line => line.Split(',')).Select(f => (
            int.Parse(f[0], CultureInfo.InvariantCulture), long.Parse(f[1], CultureInfo.InvariantCulture), double.Parse(f[2], CultureInfo.InvariantCulture),
            double.Parse(f[3], CultureInfo.InvariantCulture), long.Parse(f[5], CultureInfo.InvariantCulture))).ToList();
        WritePlot(rows, path, customers, log);
    }

    /// <summary>Daily-run time against history size (10-day rolling medians), as a standalone SVG drawn by the report charts.</summary>
    static void WritePlot(List<(int Day, long Events, double Ingestion, double Preparation, long HistoryRows)> rows, string path, int customers, TextWriter log)
    {
        double Rolling(int index, Func<(int Day, long Events, double Ingestion, double Preparation, long HistoryRows), double> value) =>
            BenchResults.Median(rows.Skip(Math.Max(0, index - 9)).Take(Math.Min(10, index + 1)).Select(value));
        var x = rows.Select(r => (double)r.Day).ToList();
        var series = new List<ChartSeries>
        {
            new("daily run", rows.Select((_, i) => Rolling(i, r => r.Ingestion + r.Preparation)).ToList()),
            new("ingest + merge", rows.Select((_, i) => Rolling(i, r => r.Ingestion)).ToList()),
            new("prepare, score, insights", rows.Select((_, i) => Rolling(i, r => r.Preparation)).ToList()),
        };
        var svg = ChartBuilder.Render(new ChartOptions(ChartType.Line)
        {
            XLabel = "days of history", YLabel = "milliseconds (10-day rolling median)", Width = 900, Height = 420,
            Description = $"Daily prediction run (churn sample, {customers:N0} customers) against days of history: 10-day rolling medians.",
            YLimits = (0, series.SelectMany(s => s.Values).Where(double.IsFinite).DefaultIfEmpty(1).Max() * 1.1),
        }, new ChartData(ChartAxisKind.Numeric, x, [], series), "daily-vs-history");
        // The report charts are inline in HTML; a file on its own needs the SVG namespace to display.
        if (!svg.Contains("xmlns=", StringComparison.Ordinal)) svg = svg.Replace("<svg ", "<svg xmlns=\"http://www.w3.org/2000/svg\" ", StringComparison.Ordinal);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, svg);
        log.WriteLine($"plot: {path}");
    }

    static void CopySample(string sample, string root) => CopyTree(sample, root);

    static void CopyTree(string source, string destination)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
