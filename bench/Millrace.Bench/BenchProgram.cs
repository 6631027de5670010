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
        switch (scenario)
        {
            case "daily":
                await DailyRunScenario.RunAsync(
                    days: int.Parse(options.GetValueOrDefault("days") ?? "180", CultureInfo.InvariantCulture),
                    customers: int.Parse(options.GetValueOrDefault("customers") ?? "2000", CultureInfo.InvariantCulture),
                    output, Console.Out);
                return 0;
            case "learning":
                await LearningScenario.RunAsync(
                    rows: int.Parse(options.GetValueOrDefault("rows") ?? "1500000", CultureInfo.InvariantCulture),
                    iterations: int.Parse(options.GetValueOrDefault("iterations") ?? "100", CultureInfo.InvariantCulture),
                    output, Console.Out);
                return 0;
            default:
                Console.WriteLine("""
                    Millrace benchmarks (run in Release):
                      daily [--days 180] [--customers 2000] [--out DIR]
                          The churn sample's daily loop (incremental ingestion + merge, then preparation) over simulated
                          days; reports the time per daily run as history grows (30 vs 180 days: target ratio <= 1.2).
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
