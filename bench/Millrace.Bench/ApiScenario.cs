using System.Diagnostics;
using System.Globalization;
using System.Text;
using Millrace.Server;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Bench;

/// <summary>
/// executePipeline accept latency: <c>calls</c> sequential Sparkflows calls (exact body, token header) over loopback
/// HTTP to a real server, each recording a run request; the time from sending to the 202. With <c>maxRuns</c> 0 the
/// executor only queues, so the figure is the API path alone; with 1 or more, runs execute meanwhile on the same cores.
/// </summary>
public static class ApiScenario
{
    public static async Task RunAsync(int calls, int maxRuns, string output, TextWriter log)
    {
        var root = BenchProjects.Create("api", 1, cron: null);
        await using var app = await MillraceServer.BuildAsync(new ServerOptions
        {
            ProjectDirectories = [root], Urls = "http://127.0.0.1:0", MaxConcurrentRuns = maxRuns, EnableScheduler = false, UseConsoleLifetime = false,
            ConfigureLogging = _ => { },
        });
        await app.StartAsync();
        var address = MillraceServer.Addresses(app).First();
        var host = ((Server.Hosting.ProjectRegistry)app.Services.GetService(typeof(Server.Hosting.ProjectRegistry))!).All[0];
        var (token, text) = ApiTokens.Create(host.Id, TokenRole.Runner, "bench", null, DateTimeOffset.UtcNow);
        await host.ServerStore.CreateTokenAsync(token, CancellationToken.None);
        using var client = new HttpClient { BaseAddress = new Uri(address) };
        client.DefaultRequestHeaders.Add("token", text);
        log.WriteLine($"api benchmark: {calls} executePipeline calls on {address}, executor limit {maxRuns} (0 = queue only)");

        async Task<double> CallAsync(int i)
        {
            using var body = new StringContent($$"""{"workflowParameters": "--var region = north --var batch = {{i}}"}""", Encoding.UTF8, "application/json");
            var watch = Stopwatch.StartNew();
            using var response = await client.PostAsync("/executePipeline?pipelineName=pipeline_0000&projectId=bench", body);
            watch.Stop();
            if ((int)response.StatusCode != 202) throw new InvalidOperationException($"call {i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return watch.Elapsed.TotalMilliseconds;
        }

        for (var i = 0; i < 50; i++) await CallAsync(-i); // warm-up: JIT, connection, SQLite pages
        var total = Stopwatch.StartNew();
        var latencies = new List<double>(calls);
        for (var i = 0; i < calls; i++) latencies.Add(await CallAsync(i));
        total.Stop();
        var recorded = (await host.Store.FindRunsAsync(new RunFilter(Target: "pipeline_0000"), new Page(0, 100_000), CancellationToken.None)).Count;
        await app.StopAsync();

        var sorted = latencies.Order().ToList();
        var csv = Path.Combine(output, "api.csv");
        await File.WriteAllLinesAsync(csv, ["call,latency_ms", .. latencies.Select((l, i) => string.Create(CultureInfo.InvariantCulture, $"{i},{l:0.000}"))]);
        log.WriteLine();
        log.WriteLine("| calls | p50 (ms) | p99 (ms) | max (ms) | mean (ms) | calls/s | runs recorded |");
        log.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {calls} | {Percentile(sorted, 0.50):0.00} | {Percentile(sorted, 0.99):0.00} | {sorted[^1]:0.00} | {latencies.Average():0.00} | {calls / total.Elapsed.TotalSeconds:0} | {recorded} |"));
        log.WriteLine($"per-call figures: {csv}");
        BenchResults.Add(new BenchFigure("api", $"executePipeline accept latency, {calls:N0} sequential calls, p50 / p99",
            string.Create(CultureInfo.InvariantCulture, $"{Percentile(sorted, 0.50):0.00} / {Percentile(sorted, 0.99):0.0} ms"), "-", double.NaN, TargetKind.None, 0,
            $"./millrace bench api --calls {calls}"));
        BenchProjects.Delete(root);
    }

    internal static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
