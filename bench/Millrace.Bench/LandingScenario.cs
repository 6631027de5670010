using System.Diagnostics;
using System.Globalization;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Lake;
using Millrace.Server;
using Millrace.Storage;
using Millrace.Triggers;

namespace Millrace.Bench;

/// <summary>
/// Landing triggers. <b>Latency</b>: <c>millrace serve</c> with a folder lake (and an S3 lake when an endpoint is given)
/// holding <c>history</c> dated prefixes already run; a new date's two feed files land, one date at a time, and the
/// figure is the time from the last file written to the date's run request recorded (the executor only queues).
/// <b>Listing cost</b>: one poll on an S3 lake against histories of 100, 1,000 and 10,000 dated prefixes, in
/// ListObjectsV2 requests and entries returned, beside what one full listing of the feed would cost.
/// </summary>
public static class LandingScenario
{
    const string Pipeline = "daily";
    static readonly DateOnly First = new(2000, 1, 1);

    public static async Task RunAsync(int history, int samples, string? s3Endpoint, string output, TextWriter log)
    {
        log.WriteLine($"landing benchmark: load average {LoadAverage()} at start");
        var rows = new List<string>();
        rows.Add(await LatencyAsync("folder", history, samples, null, output, log));
        if (s3Endpoint is not null)
        {
            rows.Add(await LatencyAsync("s3", history, samples, s3Endpoint, output, log));
            foreach (var size in new[] { 100, 1_000, 10_000 }) rows.Add(await ListingCostAsync(size, s3Endpoint, log));
        }
        else log.WriteLine("no S3 endpoint (--s3 URL or MILLRACE_TEST_S3): the S3 latency and listing-cost figures are left out");
        await File.WriteAllLinesAsync(Path.Combine(output, "landing.csv"), ["kind,lake,history_dates,figure_1,figure_2,figure_3,figure_4", .. rows]);
        log.WriteLine($"landing benchmark: load average {LoadAverage()} at the end; figures: {Path.Combine(output, "landing.csv")}");
    }

    static string Yaml(string? bucket, string? endpoint) => bucket is null ? "" : $"lake: s3://{bucket}/lake\nlake_options: {{ endpoint: \"{endpoint}\" }}\n";

    static string CreateProject(string name, string lakeYaml, string poll)
    {
        var root = Path.Combine(Path.GetTempPath(), "millrace-bench", $"{name}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(Path.Combine(root, "workflows"));
        Directory.CreateDirectory(Path.Combine(root, "pipelines"));
        Directory.CreateDirectory(Path.Combine(root, "lake", "raw"));
        File.WriteAllText(Path.Combine(root, "millrace.yaml"), $"id: bench\n{lakeYaml}");
        File.WriteAllText(Path.Combine(root, "workflows", "tiny.yaml"), "name: tiny\nsteps:\n  - id: one\n    type: sql\n    sql: SELECT ${run.date} AS d\n");
        File.WriteAllText(Path.Combine(root, "pipelines", Pipeline + ".yaml"),
            $"workflows: [tiny]\ntrigger:\n  when_landed:\n    - raw/events/dt={{date}}/*.csv\n    - raw/customers/dt={{date}}/*.csv\n  settle: 0s\n  poll: {poll}\n  from: 2000-01-01\n");
        return root;
    }

    /// <summary>Lays down <paramref name="count"/> dated prefixes of two feeds (from 2000-01-01), each recorded as run.</summary>
    static async Task SeedAsync(string root, int count, Func<string, Task> put)
    {
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var date = First.AddDays(i).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            await put($"raw/events/dt={date}/part-0.csv");
            await put($"raw/customers/dt={date}/part-0.csv");
        });
        var project = Project.Open(root);
        await using var store = await MetadataStores.OpenAsync(project, CancellationToken.None, create: true);
        for (var i = 0; i < count; i++)
            await store.SaveLandingDateAsync(new LandingDate
            {
                ProjectId = "bench", Pipeline = Pipeline, Date = First.AddDays(i), State = LandingState.Started, RunId = $"seeded-{i}", RunHash = "seeded",
                FilesetHash = "seeded", UpdatedAt = DateTimeOffset.UtcNow,
            }, CancellationToken.None);
    }

    static async Task<string> LatencyAsync(string kind, int history, int samples, string? endpoint, string output, TextWriter log)
    {
        using var s3 = endpoint is null ? null : Client(endpoint);
        var bucket = s3 is null ? null : await NewBucketAsync(s3);
        var root = CreateProject("landing-" + kind, Yaml(bucket, endpoint), kind == "folder" ? "30s" : "1s");
        Func<string, string, Task> land = s3 is null
            ? (path, content) => File.WriteAllTextAsync(Path.Combine(root, "lake", path), content)
            : (path, content) => s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "lake/" + path, ContentBody = content, UseChunkEncoding = false });
        await SeedAsync(root, history, path =>
        {
            if (s3 is null) Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(root, "lake", path))!);
            return land(path, "id\n1\n");
        });
        await using var app = await MillraceServer.BuildAsync(new ServerOptions
        {
            ProjectDirectories = [root], Urls = "http://127.0.0.1:0", MaxConcurrentRuns = 0, UseConsoleLifetime = false, ConfigureLogging = _ => { },
        });
        await app.StartAsync();
        var host = ((Server.Hosting.ProjectRegistry)app.Services.GetService(typeof(Server.Hosting.ProjectRegistry))!).All[0];
        var latencies = new List<double>();
        for (var i = 0; i < samples; i++)
        {
            var date = First.AddDays(history + i);
            var text = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            if (s3 is null)
            {
                Directory.CreateDirectory(Path.Combine(root, "lake", $"raw/events/dt={text}"));
                Directory.CreateDirectory(Path.Combine(root, "lake", $"raw/customers/dt={text}"));
            }
            await land($"raw/events/dt={text}/part-0.csv", "id\n1\n");
            await land($"raw/customers/dt={text}/part-0.csv", "id\n1\n");
            var landed = DateTimeOffset.UtcNow;
            var watch = Stopwatch.StartNew();
            Run? run = null;
            while (run is null && watch.Elapsed < TimeSpan.FromMinutes(2))
            {
                run = (await host.Store.FindRunsAsync(new RunFilter("bench", Pipeline, null, date), new Page(0, 1), CancellationToken.None)).FirstOrDefault();
                if (run is null) await Task.Delay(5);
            }
            if (run is null) throw new InvalidOperationException($"no run for {text} within 2 minutes");
            latencies.Add(Math.Max(0, (run.CreatedAt - landed).TotalMilliseconds));
        }
        await app.StopAsync();
        var sorted = latencies.Order().ToList();
        var (p50, p99) = (ApiScenario.Percentile(sorted, 0.5), ApiScenario.Percentile(sorted, 0.99));
        log.WriteLine();
        log.WriteLine($"| lake | dated prefixes in history | dates landed | p50 landed → run (ms) | p99 (ms) | max (ms) | how it was seen |");
        log.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {kind} | {history:N0} | {samples} | {p50:0} | {p99:0} | {sorted[^1]:0} | {(s3 is null ? "file-system notification (poll 30s)" : "poll every 1s")} |"));
        BenchResults.Add(new BenchFigure("landing", $"landing trigger latency, {kind} lake, {history:N0} dated prefixes, file landed → run requested, p50 / p99",
            string.Create(CultureInfo.InvariantCulture, $"{p50:0} / {p99:0} ms"), "-", double.NaN, TargetKind.None, 0, $"./millrace bench landing --history {history} --samples {samples}"));
        BenchProjects.Delete(root);
        return string.Create(CultureInfo.InvariantCulture, $"latency,{kind},{history},{p50:0},{p99:0},{sorted[^1]:0},{samples}");
    }

    static async Task<string> ListingCostAsync(int history, string endpoint, TextWriter log)
    {
        using var s3 = Client(endpoint);
        var bucket = await NewBucketAsync(s3);
        var root = CreateProject("landing-cost", Yaml(bucket, endpoint), "30s");
        await SeedAsync(root, history, path => s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "lake/" + path, ContentBody = "id\n1\n", UseChunkEncoding = false }));
        var project = Project.Open(root);
        await using var store = await MetadataStores.OpenAsync(project, CancellationToken.None);
        using var clients = new S3ClientCache();
        var lake = LakeRoot.Open(project, clients);
        var storage = (S3LakeStorage)lake.Storage;
        var coordinator = new InProcessRunCoordinator(new Runner(project, store), project, store);
        var trigger = new LandingTrigger(coordinator, lake);
        await trigger.PollAsync(project.Pipelines[Pipeline], CancellationToken.None); // warm: connections, the first listing
        var (requests, entries) = (storage.ListRequests, storage.EntriesListed);
        var watch = Stopwatch.StartNew();
        const int Polls = 5;
        for (var i = 0; i < Polls; i++) await trigger.PollAsync(project.Pipelines[Pipeline], CancellationToken.None);
        watch.Stop();
        var perPoll = ((storage.ListRequests - requests) / (double)Polls, (storage.EntriesListed - entries) / (double)Polls, watch.Elapsed.TotalMilliseconds / Polls);
        // What listing both feeds in full would cost: S3 returns at most 1,000 keys a page. (Computed, not sent: s3rver
        // answers a paged listing of 10,000 keys with an internal error.)
        var full = (2 * (long)Math.Ceiling(history / 1000.0), 2L * history);
        if (history == 100)
        {
            log.WriteLine();
            log.WriteLine("| dated prefixes in history | objects in the bucket | list requests per poll | entries listed per poll | poll (ms) | a full listing of both feeds (1,000 keys a page): requests / objects |");
            log.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
        }
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {history:N0} | {history * 2:N0} | {perPoll.Item1:0.#} | {perPoll.Item2:0.#} | {perPoll.Item3:0} | {full.Item1:N0} / {full.Item2:N0} |"));
        BenchResults.Add(new BenchFigure("landing", $"landing poll on S3, {history:N0} dated prefixes ({history * 2:N0} objects): list requests / entries per poll",
            string.Create(CultureInfo.InvariantCulture, $"{perPoll.Item1:0.#} / {perPoll.Item2:0.#}"), string.Create(CultureInfo.InvariantCulture, $"full listing {full.Item1:N0} / {full.Item2:N0}"),
            double.NaN, TargetKind.None, 0, "./millrace bench landing"));
        BenchProjects.Delete(root);
        return string.Create(CultureInfo.InvariantCulture, $"listing,s3,{history},{perPoll.Item1:0.#},{perPoll.Item2:0.#},{full.Item1},{full.Item2}");
    }

    static AmazonS3Client Client(string endpoint)
    {
        var key = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") ?? "S3RVER";
        var secret = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") ?? "S3RVER";
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", key);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", secret);
        return new AmazonS3Client(new BasicAWSCredentials(key, secret), new AmazonS3Config { ServiceURL = endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
    }

    static async Task<string> NewBucketAsync(AmazonS3Client s3)
    {
        var bucket = "millrace-bench-" + Guid.NewGuid().ToString("N")[..12];
        await s3.PutBucketAsync(bucket);
        return bucket;
    }

    static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
