using System.Globalization;

namespace Millrace.Bench;

/// <summary>
/// The scenario runner: <c>dotnet run -c Release --project bench/Millrace.Bench -- &lt;scenario&gt; [options]</c>.
/// Each scenario prints a markdown table and writes a CSV under <c>artifacts/bench/</c>.
/// </summary>
public static class BenchProgram
{
    public static async Task<int> RunAsync(string[] args)
    {
        var scenario = args.FirstOrDefault() ?? "help";
        var options = Options(args.Skip(1).ToArray());
        var output = options.GetValueOrDefault("out") ?? Path.Combine(Environment.CurrentDirectory, "artifacts", "bench");
        Directory.CreateDirectory(output);
        var machine = BenchResults.Machine();
        switch (scenario)
        {
            case "daily":
                await DailyRunScenario.RunAsync(
                    days: int.Parse(options.GetValueOrDefault("days") ?? "180", CultureInfo.InvariantCulture),
                    customers: int.Parse(options.GetValueOrDefault("customers") ?? "2000", CultureInfo.InvariantCulture),
                    output, options.GetValueOrDefault("plot") ?? Path.Combine(output, "daily-vs-history.svg"), Console.Out);
                return 0;
            case "merge":
                await MergeScenario.RunAsync(
                    rows: long.Parse(options.GetValueOrDefault("rows") ?? "1000000", CultureInfo.InvariantCulture),
                    repeats: int.Parse(options.GetValueOrDefault("repeats") ?? "5", CultureInfo.InvariantCulture),
                    output, Console.Out);
                BenchResults.Print(Console.Out, output, machine);
                return 0;
            case "pipeline":
                await PipelineScenario.RunAsync(int.Parse(options.GetValueOrDefault("rows") ?? "1000000", CultureInfo.InvariantCulture), output, Console.Out);
                return 0;
            case "quick":
                // The figures of docs/benchmarks.md at a size that runs in a few minutes on 2 cores.
                await PipelineScenario.RunAsync(1_000_000, output, Console.Out);
                await DailyRunScenario.RunAsync(days: 90, customers: 1000, output, null, Console.Out);
                await LearningScenario.RunAsync(rows: 300_000, iterations: 100, output, Console.Out);
                return 0;
            case "learning":
                await LearningScenario.RunAsync(
                    rows: int.Parse(options.GetValueOrDefault("rows") ?? "1500000", CultureInfo.InvariantCulture),
                    iterations: int.Parse(options.GetValueOrDefault("iterations") ?? "100", CultureInfo.InvariantCulture),
                    output, Console.Out);
                return 0;
            case "api":
                await ApiScenario.RunAsync(
                    calls: int.Parse(options.GetValueOrDefault("calls") ?? "1000", CultureInfo.InvariantCulture),
                    maxRuns: int.Parse(options.GetValueOrDefault("max-runs") ?? "0", CultureInfo.InvariantCulture),
                    output, Console.Out);
                return 0;
            case "scheduler":
                await SchedulerScenario.RunAsync(
                    pipelines: int.Parse(options.GetValueOrDefault("pipelines") ?? "1000", CultureInfo.InvariantCulture),
                    seconds: int.Parse(options.GetValueOrDefault("seconds") ?? "60", CultureInfo.InvariantCulture),
                    cron: options.GetValueOrDefault("cron") ?? "*/10 * * * * *",
                    output, Console.Out);
                return 0;
            default:
                Console.WriteLine("""
                    Millrace benchmarks (run in Release):
                      daily [--days 180] [--customers 2000] [--out DIR]
                          The churn sample's daily loop (incremental ingestion + merge, then preparation) over simulated
                          days; reports the time per daily run as history grows (30 vs 180 days: target ratio <= 1.2).
                      api [--calls 1000] [--max-runs 0] [--out DIR]
                          executePipeline accept latency (p50/p99) over loopback HTTP; --max-runs 0 only queues the runs.
                      scheduler [--pipelines 1000] [--seconds 60] [--cron "*/10 * * * * *"] [--out DIR]
                          Trigger lag (scheduled fire time to run request recorded) with that many cron pipelines.
                      quick
                          pipeline (1M rows), daily (90 days) and learning (300k rows), in a few minutes.
                      pipeline [--rows 1000000]
                          read + sql + write through a workflow beside the same SQL in raw DuckDB.NET (target <= 1.10).
                      learning [--rows 1500000] [--iterations 100] [--out DIR]
                          The train and predict steps beside the same ML.NET pipeline written by hand on in-memory
                          data: training time (target ratio <= 1.15) and scoring rows/s (target >= 0.9 of raw).
                    """);
                return scenario == "help" ? 0 : 2;
        }
    }

    static Dictionary<string, string> Options(string[] args)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"expected --option value, got '{args[i]}'");
            result[args[i][2..]] = args[i + 1];
        }
        return result;
    }
}
