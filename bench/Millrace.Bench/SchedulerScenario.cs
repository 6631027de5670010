using System.Globalization;
using Millrace.Server;
using Millrace.Storage;

namespace Millrace.Bench;

/// <summary>
/// Trigger lag with many schedules: <c>pipelines</c> pipelines on one seconds-level cron (all fire at the same instant,
/// the worst case), served for <c>seconds</c>; the lag of a fire is the time from its scheduled fire time to its run
/// request being recorded. The executor only queues (limit 0), so the figure is the scheduler's path alone.
/// </summary>
public static class SchedulerScenario
{
    public static async Task RunAsync(int pipelines, int seconds, string cron, string output, TextWriter log)
    {
        var root = BenchProjects.Create("scheduler", pipelines, cron);
        var startup = System.Diagnostics.Stopwatch.StartNew();
        await using var app = await MillraceServer.BuildAsync(new ServerOptions
        {
            ProjectDirectories = [root], Urls = "http://127.0.0.1:0", MaxConcurrentRuns = 0, UseConsoleLifetime = false, ConfigureLogging = _ => { },
        });
        await app.StartAsync();
        startup.Stop();
        var started = DateTimeOffset.UtcNow;
        log.WriteLine($"scheduler benchmark: {pipelines} pipelines on cron '{cron}', served {seconds}s (start-up with registration {startup.Elapsed.TotalSeconds:0.0}s)");
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        var host = ((Server.Hosting.ProjectRegistry)app.Services.GetService(typeof(Server.Hosting.ProjectRegistry))!).All[0];
        await app.StopAsync();

        var runs = await host.Store.FindRunsAsync(new RunFilter(), new Page(0, 1_000_000), CancellationToken.None);
        var lags = runs.Where(r => r.RunKey?.StartsWith("schedule:", StringComparison.Ordinal) == true)
            .Select(r => (Fire: DateTimeOffset.ParseExact(r.RunKey!["schedule:".Length..], "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal), r.CreatedAt))
            .Where(x => x.Fire >= started)
            .ToList();
        var rounds = lags.GroupBy(l => l.Fire).OrderBy(g => g.Key).ToList();
        var sorted = lags.Select(l => (l.CreatedAt - l.Fire).TotalMilliseconds).Order().ToList();
        var csv = Path.Combine(output, "scheduler.csv");
        await File.WriteAllLinesAsync(csv, ["fire_time,recorded_at,lag_ms", .. lags.Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Fire:O},{l.CreatedAt:O},{(l.CreatedAt - l.Fire).TotalMilliseconds:0.0}"))]);
        log.WriteLine();
        log.WriteLine("| fire times | fires recorded | expected | p50 lag (ms) | p99 lag (ms) | max lag (ms) | last of a round recorded after (ms, median) |");
        log.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        var lastOfRound = rounds.Select(g => g.Max(x => (x.CreatedAt - x.Fire).TotalMilliseconds)).Order().ToList();
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {rounds.Count} | {lags.Count} | {rounds.Count * pipelines} | {ApiScenario.Percentile(sorted, 0.5):0} | {ApiScenario.Percentile(sorted, 0.99):0} | {(sorted.Count == 0 ? double.NaN : sorted[^1]):0} | {ApiScenario.Percentile(lastOfRound, 0.5):0} |"));
        log.WriteLine($"per-fire figures: {csv}");
        BenchResults.Add(new BenchFigure("scheduler", $"trigger lag, {pipelines:N0} cron pipelines firing together, {lags.Count:N0} of {rounds.Count * pipelines:N0} fires recorded, p50 / p99",
            string.Create(CultureInfo.InvariantCulture, $"{ApiScenario.Percentile(sorted, 0.5):0} / {ApiScenario.Percentile(sorted, 0.99):0} ms"), "-", double.NaN, TargetKind.None, 0,
            $"./millrace bench scheduler --pipelines {pipelines} --seconds {seconds}"));
        BenchProjects.Delete(root);
    }
}

/// <summary>Throwaway projects for the server benchmarks: one tiny workflow and N pipelines.</summary>
static class BenchProjects
{
    public static string Create(string name, int pipelines, string? cron)
    {
        var root = Path.Combine(Path.GetTempPath(), "millrace-bench", $"{name}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(Path.Combine(root, "workflows"));
        Directory.CreateDirectory(Path.Combine(root, "pipelines"));
        File.WriteAllText(Path.Combine(root, "millrace.yaml"), "id: bench\nname: Benchmark\n");
        File.WriteAllText(Path.Combine(root, "workflows", "tiny.yaml"), "name: tiny\nparameters: { region: { default: all }, batch: { type: int, default: 0 } }\nsteps:\n  - id: one\n    type: sql\n    sql: SELECT $region AS region, $batch AS batch\n");
        for (var i = 0; i < pipelines; i++)
        {
            var pipeline = $"pipeline_{i:0000}";
            File.WriteAllText(Path.Combine(root, "pipelines", pipeline + ".yaml"),
                $"name: {pipeline}\nworkflows: [tiny]\nconcurrency: {{ max_active: 1000, on_overlap: queue }}\n" + (cron is null ? "" : $"schedule: {{ cron: \"{cron}\", timezone: UTC }}\n"));
        }
        return root;
    }

    public static void Delete(string root)
    {
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
    }
}
