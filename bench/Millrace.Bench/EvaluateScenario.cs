using System.Diagnostics;
using System.Globalization;
using System.Text;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Storage;

namespace Millrace.Bench;

/// <summary>
/// Realized performance in history: the daily <c>evaluate</c> run (one new score date whose 14-day horizon has just
/// passed, joined with the labels) against a predictions dataset holding 30 and 180 days of <c>customers</c> rows per
/// day. Each history is its own project (a logistic model trained once, the predictions and labels committed as
/// datasets partitioned by day); then the two are evaluated alternately, one day further each round, and the figure
/// is the median run time. The target is a flat cost: the step reads only the score dates it evaluates.
/// </summary>
public static class EvaluateScenario
{
    static readonly DateOnly First = new(2026, 1, 1);

    public static async Task RunAsync(int customers, int rounds, string output, TextWriter log)
    {
        log.WriteLine($"evaluate benchmark: one day's labels against 30 and 180 days of predictions ({customers:N0} customers a day), {rounds} rounds");
        var histories = new[] { 30, 180 };
        var projects = new Dictionary<int, string>();
        foreach (var days in histories) projects[days] = await SeedAsync(days, customers);
        var times = histories.ToDictionary(d => d, _ => new List<double>());
        var lines = new List<string> { "days,round,seconds,points" };
        // Round 0 warms up (JIT, the first read of each dataset) and is not counted.
        for (var round = 0; round <= rounds; round++)
            foreach (var days in round % 2 == 0 ? histories : histories.Reverse())
            {
                var project = Project.Open(projects[days]);
                await using var store = await MetadataStores.OpenAsync(project, CancellationToken.None);
                // The newest score dates: the one whose horizon ends on run.date is new each round.
                var runDate = First.AddDays(days - 1 - rounds + round);
                var watch = Stopwatch.StartNew();
                var run = await new Runner(project, store).RunAsync(new RunRequest("evaluate", [new(Parameters.BuiltInParameters.RunDate, Text(runDate))]));
                watch.Stop();
                if (run.Status != RunStatus.Succeeded) throw new InvalidOperationException($"evaluate over {days} days failed: {run.Error}");
                var points = (await store.ListPerformanceAsync(project.Id, "churn", null, null, null, CancellationToken.None)).Count(p => p.RunId == run.Id);
                if (round > 0) times[days].Add(watch.Elapsed.TotalSeconds);
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"{days},{round},{watch.Elapsed.TotalSeconds:0.000},{points}"));
            }
        var m30 = BenchResults.Median(times[30]);
        var m180 = BenchResults.Median(times[180]);
        log.WriteLine();
        log.WriteLine("| days of predictions | prediction rows | evaluate run, median (s) |");
        log.WriteLine("| ---: | ---: | ---: |");
        foreach (var days in histories)
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {days} | {days * customers:N0} | {BenchResults.Median(times[days]):0.000} |"));
        BenchResults.Add(new BenchFigure("evaluate", $"daily evaluate run (one day's labels), 180 vs 30 days of predictions, {customers:N0} a day",
            string.Create(CultureInfo.InvariantCulture, $"{m180:0.000} s"), string.Create(CultureInfo.InvariantCulture, $"{m30:0.000} s"), m180 / m30, TargetKind.AtMost, 1.2,
            $"./millrace bench evaluate --customers {customers} --rounds {rounds}"));
        var csv = Path.Combine(output, "evaluate.csv");
        Directory.CreateDirectory(output);
        await File.WriteAllLinesAsync(csv, lines);
        log.WriteLine($"per-run figures: {csv}");
        foreach (var root in projects.Values) BenchProjects.Delete(root);
    }

    /// <summary>A project with model churn v1, <paramref name="days"/> days of its predictions and the customers' churn dates.</summary>
    static async Task<string> SeedAsync(int days, int customers)
    {
        var root = Path.Combine(Path.GetTempPath(), "millrace-bench", $"evaluate-{days}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(Path.Combine(root, "workflows"));
        Directory.CreateDirectory(Path.Combine(root, "lake", "raw"));
        File.WriteAllText(Path.Combine(root, "millrace.yaml"), "id: bench_eval\nname: Evaluate benchmark\n");
        var random = new Random(7);
        var train = new StringBuilder("x,churned\n");
        for (var i = 0; i < 2000; i++)
        {
            var x = random.NextDouble();
            train.Append(CultureInfo.InvariantCulture, $"{x:0.0000},{(random.NextDouble() < x * 0.6 ? "true" : "false")}\n");
        }
        File.WriteAllText(Path.Combine(root, "lake", "raw", "train.csv"), train.ToString());
        // Each customer has a risk; a risky one churns on some day of the history (and is scored until then).
        var churnDay = Enumerable.Range(0, customers).Select(_ => random.NextDouble() < 0.3 ? random.Next(days + 14) : int.MaxValue).ToArray();
        var risk = churnDay.Select(d => Math.Clamp((d == int.MaxValue ? 0.2 : 0.6) + (random.NextDouble() - 0.5) * 0.6, 0.01, 0.99)).ToArray();
        for (var d = 0; d < days; d++)
        {
            var folder = Path.Combine(root, "lake", "raw", "preds", $"dt={Text(First.AddDays(d))}");
            Directory.CreateDirectory(folder);
            var csv = new StringBuilder("as_of,customer_id,probability,predicted_label,model_version,run_id\n");
            for (var c = 0; c < customers; c++)
                if (churnDay[c] >= d)
                    csv.Append(CultureInfo.InvariantCulture, $"{Text(First.AddDays(d))},{c + 1},{risk[c]:0.0000},{(risk[c] >= 0.5 ? "true" : "false")},1,bench\n");
            File.WriteAllText(Path.Combine(folder, "part.csv"), csv.ToString());
        }
        var labels = new StringBuilder("customer_id,churned_at\n");
        for (var c = 0; c < customers; c++)
            if (churnDay[c] != int.MaxValue) labels.Append(CultureInfo.InvariantCulture, $"{c + 1},{Text(First.AddDays(churnDay[c]))}\n");
        File.WriteAllText(Path.Combine(root, "lake", "raw", "labels.csv"), labels.ToString());
        File.WriteAllText(Path.Combine(root, "workflows", "train.yaml"), """
            name: train
            steps:
              - { id: data, type: read, path: raw/train.csv }
              - { id: model, type: train, input: data, model: churn, task: binary, label: churned, algorithm: logistic }
            """);
        File.WriteAllText(Path.Combine(root, "workflows", "seed.yaml"), """
            name: seed
            steps:
              - { id: preds, type: read, path: "raw/preds/dt=*/part.csv", schema: { as_of: DATE, customer_id: BIGINT, probability: DOUBLE, predicted_label: BOOLEAN, model_version: INTEGER, run_id: VARCHAR, dt: DATE } }
              - { id: served, type: sql, inputs: [preds], sql: "SELECT * EXCLUDE (dt) FROM preds" }
              - { id: churn_predictions, type: write, input: served, dataset: churn_predictions, mode: replace_partitions, partition_by: [as_of] }
              - { id: label_rows, type: read, path: raw/labels.csv, schema: { customer_id: BIGINT, churned_at: DATE } }
              - { id: churn_labels, type: write, input: label_rows, dataset: churn_labels }
            """);
        File.WriteAllText(Path.Combine(root, "workflows", "evaluate.yaml"), """
            name: evaluate
            steps:
              - id: realized
                type: evaluate
                inputs: [churn_predictions, churn_labels]
                model: churn
                predictions: churn_predictions
                score_date: as_of
                label: { input: churn_labels, key: customer_id, event_time: churned_at, horizon: 14d }
                recheck: 0d
            """);
        var project = Project.Open(root);
        await using var store = await MetadataStores.OpenAsync(project, CancellationToken.None, create: true);
        var runner = new Runner(project, store);
        foreach (var workflow in new[] { "train", "seed" })
        {
            var run = await runner.RunAsync(new RunRequest(workflow, []));
            if (run.Status != RunStatus.Succeeded) throw new InvalidOperationException($"{workflow} failed: {run.Error}");
        }
        return root;
    }

    static string Text(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
