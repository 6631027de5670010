using System.Diagnostics;
using System.Globalization;
using System.Text;
using Millrace.Server;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Bench;

/// <summary>
/// Online scoring latency: <c>calls</c> sequential <c>POST /api/v1/models/{name}/predict</c> calls over loopback HTTP
/// to a real server, with 1 row and with 100 rows each, against the champion of a logistic model trained on five
/// features (numeric and text). The time from sending to the 200, after warm-up calls (so the model is loaded).
/// </summary>
public static class PredictScenario
{
    public static async Task RunAsync(int calls, string output, TextWriter log)
    {
        var root = Project();
        await using var app = await MillraceServer.BuildAsync(new ServerOptions
        {
            ProjectDirectories = [root], Urls = "http://127.0.0.1:0", MaxConcurrentRuns = 0, EnableScheduler = false, UseConsoleLifetime = false,
            ConfigureLogging = _ => { },
        });
        await app.StartAsync();
        var address = MillraceServer.Addresses(app).First();
        var host = ((Server.Hosting.ProjectRegistry)app.Services.GetService(typeof(Server.Hosting.ProjectRegistry))!).All[0];
        var trained = await host.Runner.RunAsync(new Engine.RunRequest("train", []));
        if (trained.Status != RunStatus.Succeeded) throw new InvalidOperationException($"training failed: {trained.Error}");
        var (token, text) = ApiTokens.Create(host.Id, TokenRole.Viewer, "bench", null, DateTimeOffset.UtcNow);
        await host.ServerStore.CreateTokenAsync(token, CancellationToken.None);
        using var client = new HttpClient { BaseAddress = new Uri(address) };
        client.DefaultRequestHeaders.Add("token", text);
        log.WriteLine($"predict benchmark: {calls} sequential calls of 1 and of 100 rows on {address}");

        var lines = new List<string> { "rows,call,latency_ms" };
        log.WriteLine();
        log.WriteLine("| rows per call | p50 (ms) | p99 (ms) | max (ms) | mean (ms) |");
        log.WriteLine("| ---: | ---: | ---: | ---: | ---: |");
        foreach (var rows in new[] { 1, 100 })
        {
            var body = "[" + string.Join(", ", Enumerable.Range(0, rows).Select(i => string.Create(CultureInfo.InvariantCulture,
                $$"""{"a": {{i % 10 / 10.0}}, "b": {{i % 7}}, "c": {{i % 3 * 1.5}}, "d": {{i % 5}}, "tag": "{{(i % 2 == 0 ? "x" : "y")}}"}"""))) + "]";
            async Task<double> CallAsync()
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                var watch = Stopwatch.StartNew();
                using var response = await client.PostAsync("/api/v1/models/bench_model/predict?projectId=bench", content);
                _ = await response.Content.ReadAsByteArrayAsync();
                watch.Stop();
                if ((int)response.StatusCode != 200) throw new InvalidOperationException($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                return watch.Elapsed.TotalMilliseconds;
            }
            for (var i = 0; i < 30; i++) await CallAsync(); // warm-up: JIT, connection, the model's first load
            var latencies = new List<double>(calls);
            for (var i = 0; i < calls; i++) latencies.Add(await CallAsync());
            var sorted = latencies.Order().ToList();
            lines.AddRange(latencies.Select((l, i) => string.Create(CultureInfo.InvariantCulture, $"{rows},{i},{l:0.000}")));
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {rows} | {ApiScenario.Percentile(sorted, 0.50):0.00} | {ApiScenario.Percentile(sorted, 0.99):0.00} | {sorted[^1]:0.00} | {latencies.Average():0.00} |"));
            BenchResults.Add(new BenchFigure("predict", $"online scoring latency, {rows} row{(rows == 1 ? "" : "s")} per call, {calls:N0} sequential calls, p50 / p99",
                string.Create(CultureInfo.InvariantCulture, $"{ApiScenario.Percentile(sorted, 0.50):0.00} / {ApiScenario.Percentile(sorted, 0.99):0.0} ms"), "-", double.NaN, TargetKind.None, 0,
                $"./millrace bench predict --calls {calls}"));
        }
        await app.StopAsync();
        var csv = Path.Combine(output, "predict.csv");
        await File.WriteAllLinesAsync(csv, lines);
        log.WriteLine($"per-call figures: {csv}");
        BenchProjects.Delete(root);
    }

    static string Project()
    {
        var root = Path.Combine(Path.GetTempPath(), "millrace-bench", $"predict-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(Path.Combine(root, "workflows"));
        Directory.CreateDirectory(Path.Combine(root, "lake", "raw"));
        File.WriteAllText(Path.Combine(root, "millrace.yaml"), "id: bench\nname: Benchmark\n");
        var rows = Enumerable.Range(0, 2000).Select(i => string.Create(CultureInfo.InvariantCulture,
            $"{i % 10 / 10.0},{i % 7},{i % 3 * 1.5},{i % 5},{(i % 2 == 0 ? "x" : "y")},{(i % 10 + i % 7 > 8 ? "true" : "false")}"));
        File.WriteAllText(Path.Combine(root, "lake", "raw", "train.csv"), "a,b,c,d,tag,y\n" + string.Join("\n", rows) + "\n");
        File.WriteAllText(Path.Combine(root, "workflows", "train.yaml"), """
            name: train
            steps:
              - { id: data, type: read, path: raw/train.csv }
              - { id: model, type: train, input: data, model: bench_model, task: binary, label: y, algorithm: logistic }
            """);
        return root;
    }
}
