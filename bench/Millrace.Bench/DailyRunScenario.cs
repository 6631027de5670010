using System.Diagnostics;
using System.Globalization;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Samples.Churn;
using Millrace.Storage;

namespace Millrace.Bench;

/// <summary>
/// Runs the churn sample day by day, as the scheduler would: each day's drop lands, then ingestion (incremental read
/// + merge into the history) and preparation (features over the merged history, report). Measures the time per
/// daily run and how it grows with the history: a continuous system must cost what the new day costs.
/// </summary>
public static class DailyRunScenario
{
    public static async Task RunAsync(int days, int customers, string output, TextWriter log)
    {
        var root = Path.Combine(Path.GetTempPath(), "millrace-bench", "daily-" + Guid.NewGuid().ToString("N")[..8]);
        CopySample(Path.Combine(AppContext.BaseDirectory, "samples", "churn"), root);
        var generator = new ChurnLakeGenerator(Path.Combine(root, "lake"), seed: 42, initialCustomers: customers);
        var project = Project.Open(root);
        await using var store = await MetadataStores.OpenAsync(project, CancellationToken.None);
        var runner = new Runner(project, store);
        var start = new DateOnly(2026, 1, 1);
        var rows = new List<(int Day, long Events, double Ingestion, double Preparation, long HistoryRows)>();
        log.WriteLine($"daily-run benchmark: {days} days, {customers} customers at start, project in {root}");
        for (var d = 0; d < days; d++)
        {
            var day = generator.Generate(start.AddDays(d));
            var variables = new[] { new KeyValuePair<string, string>("run.date", day.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)) };
            // The sample's daily prediction pipeline: ingest + merge, then prepare, score and insights (no model is
            // trained here, so scoring is skipped); ingestion is its first workflow, timed from the run record.
            var clock = Stopwatch.StartNew();
            var run = await runner.RunAsync(new RunRequest("prediction", variables, TriggerKind.Schedule));
            clock.Stop();
            if (run.Status != RunStatus.Succeeded) throw new InvalidOperationException($"day {day.Date}: {run.Error}");
            var ingest = (await store.GetWorkflowRunsAsync(run.Id, CancellationToken.None)).Single(w => w.Workflow == "ingest");
            var ingestion = (ingest.EndedAt - ingest.StartedAt)!.Value;
            var preparation = clock.Elapsed - ingestion;
            var history = (await store.GetDatasetVersionAsync("events", null, CancellationToken.None))!.Rows;
            rows.Add((d + 1, day.Events, ingestion.TotalMilliseconds, preparation.TotalMilliseconds, history));
            if ((d + 1) % 30 == 0) log.WriteLine($"  day {d + 1}: ingestion {ingestion.TotalMilliseconds:0} ms, the rest {preparation.TotalMilliseconds:0} ms, events history {history:N0} rows");
        }

        var csv = Path.Combine(output, "daily-run.csv");
        await File.WriteAllLinesAsync(csv, ["day,new_events,ingestion_ms,preparation_ms,total_ms,history_rows",
            .. rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Day},{r.Events},{r.Ingestion:0.0},{r.Preparation:0.0},{r.Ingestion + r.Preparation:0.0},{r.HistoryRows}"))]);

        // Medians over a 10-day window ending at each checkpoint: single days are noisy on a shared 2-core machine.
        log.WriteLine();
        log.WriteLine("| history (days) | events in history | ingestion + merge (ms, median of 10 days) | prepare, score, insights (ms) | daily run (ms) |");
        log.WriteLine("| ---: | ---: | ---: | ---: | ---: |");
        var checkpoints = new[] { 30, 90, 180 }.Where(c => c <= days).ToList();
        var medians = new Dictionary<int, double>();
        foreach (var checkpoint in checkpoints)
        {
            var window = rows.Where(r => r.Day > checkpoint - 10 && r.Day <= checkpoint).ToList();
            var total = Median(window.Select(r => r.Ingestion + r.Preparation));
            medians[checkpoint] = total;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {checkpoint} | {window[^1].HistoryRows:N0} | {Median(window.Select(r => r.Ingestion)):0} | {Median(window.Select(r => r.Preparation)):0} | {total:0} |"));
        }
        if (medians.ContainsKey(30) && medians.ContainsKey(checkpoints[^1]) && checkpoints[^1] != 30)
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"\nratio daily run at {checkpoints[^1]} days / at 30 days: {medians[checkpoints[^1]] / medians[30]:0.00} (target <= 1.20)"));
        log.WriteLine($"per-day figures: {csv}");
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
    }

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    static void CopySample(string sample, string root)
    {
        foreach (var file in Directory.EnumerateFiles(sample, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(root, Path.GetRelativePath(sample, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
