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
            case "all":
                // The full run behind docs/benchmarks.md (about 30 minutes on 2 shared cores).
                await PipelineScenario.RunAsync(1_000_000, 3, output, Console.Out);
                await PipelineScenario.RunAsync(5_000_000, 3, output, Console.Out);
                if (options.ContainsKey("huge")) await PipelineScenario.RunAsync(20_000_000, 1, output, Console.Out);
                await MergeScenario.RunAsync(5_000_000, 5, output, Console.Out);
                await DailyRunScenario.RunAsync(days: 180, customers: 2000, replays: 5, output,
                    options.GetValueOrDefault("plot") ?? Path.Combine(Environment.CurrentDirectory, "docs", "images", "daily-vs-history.svg"), Console.Out);
                await LearningScenario.RunAsync(rows: 1_500_000, iterations: 100, repeats: 3, output, Console.Out);
                await ApiScenario.RunAsync(calls: 1000, maxRuns: 0, output, Console.Out);
                await SchedulerScenario.RunAsync(pipelines: 1000, seconds: 45, cron: "*/10 * * * * *", output, Console.Out);
                DatasetViewBenchmarks.Report(BenchmarkDotNet.Running.BenchmarkRunner.Run<DatasetViewBenchmarks>(DatasetViewBenchmarks.Config()));
                BenchResults.Print(Console.Out, output, machine);
                return 0;
            case "quick":
                // The same table at sizes that run in under 5 minutes on 2 cores.
                await PipelineScenario.RunAsync(1_000_000, 3, output, Console.Out);
                await MergeScenario.RunAsync(1_000_000, 3, output, Console.Out);
                await DailyRunScenario.RunAsync(days: 90, customers: 1000, replays: 3, output, Path.Combine(output, "daily-vs-history.svg"), Console.Out);
                await LearningScenario.RunAsync(rows: 300_000, iterations: 100, repeats: 2, output, Console.Out);
                await ApiScenario.RunAsync(calls: 500, maxRuns: 0, output, Console.Out);
                await SchedulerScenario.RunAsync(pipelines: 1000, seconds: 25, cron: "*/10 * * * * *", output, Console.Out);
                BenchResults.Print(Console.Out, output, machine);
                return 0;
            case "daily":
                await DailyRunScenario.RunAsync(
                    days: Int("days", 180), customers: Int("customers", 2000), replays: Int("replays", 5),
                    output, options.GetValueOrDefault("plot") ?? Path.Combine(output, "daily-vs-history.svg"), Console.Out);
                break;
            case "pipeline":
                await PipelineScenario.RunAsync(Int("rows", 1_000_000), Int("repeats", 3), output, Console.Out);
                break;
            case "merge":
                await MergeScenario.RunAsync(Int("rows", 1_000_000), Int("repeats", 5), output, Console.Out);
                break;
            case "learning":
                await LearningScenario.RunAsync(rows: Int("rows", 1_500_000), iterations: Int("iterations", 100), repeats: Int("repeats", 3), output, Console.Out);
                break;
            case "learning-side":
                await LearningScenario.RunSideAsync(options["side"], options["data"], options["root"], Int("iterations", 100), Console.Out);
                return 0;
            case "micro":
                DatasetViewBenchmarks.Report(BenchmarkDotNet.Running.BenchmarkRunner.Run<DatasetViewBenchmarks>(DatasetViewBenchmarks.Config()));
                break;
            case "plot":
                DailyRunScenario.PlotFromCsv(options.GetValueOrDefault("csv") ?? Path.Combine(output, "daily-run.csv"),
                    options.GetValueOrDefault("plot") ?? Path.Combine(Environment.CurrentDirectory, "docs", "images", "daily-vs-history.svg"), Int("customers", 2000), Console.Out);
                return 0;
            case "lake":
                ScaleLake.Generate(options.GetValueOrDefault("lake") ?? Path.Combine(output, "lake"), Int("rows", 1_000_000) / Int("days", 180), 0, Int("days", 180) - 1,
                    options.GetValueOrDefault("format") ?? "parquet");
                return 0;
            case "api":
                await ApiScenario.RunAsync(calls: Int("calls", 1000), maxRuns: Int("max-runs", 0), output, Console.Out);
                break;
            case "predict":
                await PredictScenario.RunAsync(calls: Int("calls", 500), output, Console.Out);
                break;
            case "evaluate":
                await EvaluateScenario.RunAsync(customers: Int("customers", 2000), rounds: Int("rounds", 5), output, Console.Out);
                break;
            case "landing":
                await LandingScenario.RunAsync(history: Int("history", 1000), samples: Int("samples", 50),
                    options.GetValueOrDefault("s3") ?? Environment.GetEnvironmentVariable("MILLRACE_TEST_S3"), output, Console.Out);
                break;
            case "scheduler":
                await SchedulerScenario.RunAsync(pipelines: Int("pipelines", 1000), seconds: Int("seconds", 60), cron: options.GetValueOrDefault("cron") ?? "*/10 * * * * *", output, Console.Out);
                break;
            default:
                Console.WriteLine("""
                    Millrace benchmarks (run in Release; ./millrace bench runs 'all', ./millrace bench --quick runs 'quick'):
                      all [--huge true] [--plot FILE]
                          Every scenario at full size (pipeline 1M and 5M rows, 20M with --huge; merge in a 5M-row lake;
                          daily 180 days; learning 1.5M rows; api; scheduler; micro), then the summary table. About 30 minutes.
                      quick
                          The same table at small sizes, in under 5 minutes.
                      pipeline [--rows 1000000] [--repeats 3]
                          read + sql + write through a workflow beside the same SQL in raw DuckDB.NET (target <= 1.10).
                      merge [--rows 1000000] [--repeats 5]
                          Merge of one day into histories of 30/90/180 days (target: 180 vs 30 <= 1.2), beside the same
                          merge in raw DuckDB.NET.
                      daily [--days 180] [--customers 2000] [--replays 5] [--plot FILE]
                          The churn sample's prediction pipeline (ingest, merge, prepare, score, insights) day after day;
                          then the next day replayed on copies of the 30-day and the last-day project, alternately
                          (target: last vs 30 days <= 1.2). Per-step times show what grows.
                      learning [--rows 1500000] [--iterations 100] [--repeats 3]
                          The train and predict steps beside the same ML.NET pipeline by hand, each side in its own
                          process: training time (target <= 1.15), scoring rows/s (target >= 0.9 of raw), peak memory.
                      micro
                          BenchmarkDotNet: a query filtered on the partition column over a dataset view of 30 or 180
                          daily files (the view before issue 9, the view now, raw DuckDB's hive glob).
                      plot [--csv artifacts/bench/daily-run.csv] [--plot docs/images/daily-vs-history.svg] [--customers 2000]
                          Draws the daily-run plot again from the CSV of an earlier daily run.
                      lake [--rows 1000000] [--days 180] [--format parquet|csv] [--lake DIR]
                          Writes the deterministic scale lake (raw/events/dt=.../) only.
                      api [--calls 1000] [--max-runs 0]
                          executePipeline accept latency (p50/p99) over loopback HTTP; --max-runs 0 only queues the runs.
                      predict [--calls 500]
                          Online scoring latency (p50/p99) over loopback HTTP, 1 and 100 rows per call.
                      scheduler [--pipelines 1000] [--seconds 60] [--cron "*/10 * * * * *"]
                          Trigger lag (scheduled fire time to run request recorded) with that many cron pipelines.
                      evaluate [--customers 2000] [--rounds 5]
                          The daily evaluate run (one new score date's labels) against 30 and 180 days of predictions,
                          alternately (target: 180 vs 30 days <= 1.2).
                      landing [--history 1000] [--samples 50] [--s3 URL]
                          Landing-trigger latency (last feed file landed to run request recorded, p50/p99) on a folder
                          lake and, with an S3 endpoint (--s3 or MILLRACE_TEST_S3), on S3; then the S3 listing cost per
                          poll (requests, entries) against 100 / 1,000 / 10,000 dated prefixes of history.
                    Every scenario takes --out DIR (default artifacts/bench) for its CSV files and summary.md.
                    """);
                return scenario == "help" ? 0 : 2;
        }
        BenchResults.Print(Console.Out, output, machine);
        return 0;

        int Int(string name, int fallback) => options.TryGetValue(name, out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;
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
