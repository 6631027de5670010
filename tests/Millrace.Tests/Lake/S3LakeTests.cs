using Millrace.Engine;
using Millrace.Storage;
using Millrace.Tests.Reports;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Lake;

/// <summary>
/// The S3 lake against a real S3-compatible server (s3rver, started by ./test.sh): incremental reads list the bucket
/// and take objects by ETag, runs upload before their commit and publish after it, a second node with an empty cache
/// reads what the first committed, and gc cleans the bucket. Each test has its own bucket.
/// </summary>
public sealed class S3LakeTests : IAsyncLifetime
{
    const string Ingest = """
        name: ingest
        steps:
          - id: new_events
            type: read
            path: raw/events/*.csv
            incremental: true
            schema: { event_id: BIGINT, customer: VARCHAR, amount: DOUBLE }
          - id: history
            type: merge
            input: new_events
            into: events
            key: [event_id]
          - id: export
            type: write
            input: new_events
            path: predictions/new_events/dt=${run.date}/events.csv
        """;

    const string Summarize = """
        name: summarize
        steps:
          - id: totals
            type: sql
            inputs: [events]
            sql: SELECT customer, count(*) AS events, sum(amount) AS amount FROM events GROUP BY customer ORDER BY customer
          - id: store_totals
            type: write
            input: totals
            dataset: totals
          - id: out
            type: write
            input: totals
            path: predictions/totals/dt=${run.date}/
            format: csv
        """;

    static readonly string[] Batches =
    [
        "event_id,customer,amount\n1,a,10.5\n2,b,3\n3,a,1\n",
        "event_id,customer,amount\n4,c,7\n2,b,4\n",
        "event_id,customer,amount\n5,a,2\n6,d,8.25\n",
    ];

    S3TestBucket? _bucket;
    readonly List<TestProject> _projects = [];

    S3TestBucket Bucket => _bucket!;

    public async Task InitializeAsync() => _bucket = S3TestBucket.Endpoint is null ? null : await S3TestBucket.CreateAsync();

    public async Task DisposeAsync()
    {
        foreach (var project in _projects) await project.DisposeAsync();
        _bucket?.Dispose();
    }

    /// <summary>A project (a "node") on this test's bucket; <paramref name="store"/> shares another node's SQLite store.</summary>
    TestProject Node(string? store = null)
    {
        var project = new TestProject(projectYaml: $"id: s3lake\n{Bucket.LakeYaml()}{(store is null ? "" : $"store: sqlite:{store}\n")}");
        project.Workflow("ingest", Ingest).Workflow("summarize", Summarize).Pipeline("daily", "workflows: [ingest, summarize]\n");
        _projects.Add(project);
        return project;
    }

    /// <summary>Two nodes on this test's bucket sharing the first one's store (each with its own project folder and cache).</summary>
    async Task<(TestProject First, TestProject Second, IMetadataStore Store)> TwoNodesAsync()
    {
        var first = Node();
        return (first, Node(store: Path.Combine(first.Directory, ".millrace", "millrace.db")), await first.StoreAsync());
    }

    static string CachePath(TestProject node, string relative) => Path.Combine(node.Directory, ".millrace", "lake-cache", relative);

    static async Task<Run> RunOnAsync(TestProject node, IMetadataStore store, string target, string date) =>
        await new Runner(node.Open(), store) { DuckDbThreads = 2 }.RunAsync(new RunRequest(target, [new("run.date", date)]));

    static void Succeeded(Run run) => Assert.True(run.Status == RunStatus.Succeeded, $"run {run.Id} {run.Status}: {run.Error}");

    [SkippableFact]
    public async Task Incremental_read_takes_new_objects_once_and_detects_a_rewritten_object_by_its_etag()
    {
        Skip.If(S3TestBucket.Endpoint is null, "MILLRACE_TEST_S3 is not set");
        var node = Node();
        await Bucket.PutAsync("lake/raw/events/a.csv", Batches[0]);

        var first = await node.RunAsync("ingest", ("run.date", "2026-01-01"));
        Succeeded(first);
        Assert.Equal(3, (await node.StepRunAsync(first.Id, "new_events")).Rows);
        var watermark = await (await node.StoreAsync()).GetWatermarkAsync("ingest", "new_events", CancellationToken.None);
        Assert.False(string.IsNullOrEmpty(watermark["raw/events/a.csv"].ETag));

        // A fresh cache: the next run downloads only the new object, not the one already taken.
        Directory.Delete(Path.Combine(node.Directory, ".millrace", "lake-cache"), recursive: true);
        await Bucket.PutAsync("lake/raw/events/b.csv", Batches[1]);
        var second = await node.RunAsync("ingest", ("run.date", "2026-01-02"));
        Succeeded(second);
        Assert.Equal(2, (await node.StepRunAsync(second.Id, "new_events")).Rows);
        Assert.True(File.Exists(CachePath(node, "raw/events/b.csv")));
        Assert.False(File.Exists(CachePath(node, "raw/events/a.csv")));

        // The same bytes written again keep their ETag: not a new file.
        await Bucket.PutAsync("lake/raw/events/a.csv", Batches[0]);
        var same = await node.RunAsync("ingest", ("run.date", "2026-01-03"));
        Succeeded(same);
        Assert.Equal(0, (await node.StepRunAsync(same.Id, "new_events")).Rows);

        // New bytes: a new ETag, a rewritten_file anomaly, and (on_rewrite: reprocess) the object is read again.
        await Bucket.PutAsync("lake/raw/events/a.csv", Batches[2]);
        var rewritten = await node.RunAsync("ingest", ("run.date", "2026-01-04"));
        Succeeded(rewritten);
        Assert.Equal(2, (await node.StepRunAsync(rewritten.Id, "new_events")).Rows);
        var anomaly = Assert.Single(await (await node.StoreAsync()).FindAnomaliesAsync(rewritten.Id, new Page(0, 10), CancellationToken.None));
        Assert.Equal("rewritten_file", anomaly.Kind);
        Assert.Contains("raw/events/a.csv changed after run", anomaly.Message, StringComparison.Ordinal);
        Assert.Contains("etag", anomaly.Message, StringComparison.Ordinal);
        var events = await node.QueryDatasetAsync("events", "SELECT event_id FROM {dataset} ORDER BY event_id", version: null);
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L], events.Select(r => Convert.ToInt64(r[0])).ToArray());
    }

    [SkippableFact]
    public async Task A_pipeline_on_an_S3_lake_commits_what_the_same_pipeline_commits_on_a_local_lake()
    {
        Skip.If(S3TestBucket.Endpoint is null, "MILLRACE_TEST_S3 is not set");
        var s3 = Node();
        await using var local = new TestProject(projectYaml: "id: s3lake\n");
        local.Workflow("ingest", Ingest).Workflow("summarize", Summarize).Pipeline("daily", "workflows: [ingest, summarize]\n");
        for (var day = 0; day < 2; day++)
        {
            await Bucket.PutAsync($"lake/raw/events/{day}.csv", Batches[day]);
            local.LakeFile($"raw/events/{day}.csv", Batches[day]);
            var date = $"2026-01-0{day + 1}";
            Succeeded(await s3.RunAsync("daily", ("run.date", date)));
            Succeeded(await local.RunAsync("daily", ("run.date", date)));
        }

        foreach (var dataset in new[] { "events", "totals" })
            Assert.Equal(
                await local.QueryDatasetAsync(dataset, "SELECT * FROM {dataset} ORDER BY ALL"),
                await s3.QueryDatasetAsync(dataset, "SELECT * FROM {dataset} ORDER BY ALL"));
        foreach (var output in new[] { "predictions/totals/dt=2026-01-02/part-0.csv", "predictions/new_events/dt=2026-01-02/events.csv" })
            Assert.Equal(await File.ReadAllTextAsync(local.LakePath(output)), await Bucket.GetAsync($"lake/{output}"));

        var keys = await Bucket.KeysAsync();
        Assert.DoesNotContain(keys, k => k.StartsWith("lake/_staging/", StringComparison.Ordinal));
        var totals = (await s3.DatasetVersionAsync("totals"))!;
        Assert.All(totals.Files, f => Assert.Contains($"lake/{f}", keys));
    }

    [SkippableFact]
    public async Task A_second_node_with_an_empty_cache_reads_what_the_first_node_committed()
    {
        Skip.If(S3TestBucket.Endpoint is null, "MILLRACE_TEST_S3 is not set");
        var (first, second, store) = await TwoNodesAsync();
        await Bucket.PutAsync("lake/raw/events/0.csv", Batches[0]);
        Succeeded(await RunOnAsync(first, store, "ingest", "2026-01-01"));

        Assert.False(Directory.Exists(CachePath(second, "datasets")));
        Succeeded(await RunOnAsync(second, store, "summarize", "2026-01-01"));
        // The first node's store holds the version; its cache fetches the second node's files from the bucket.
        Assert.Equal([["a", 2L, 11.5], ["b", 1L, 3.0]], await first.QueryDatasetAsync("totals", "SELECT customer, events, amount FROM {dataset} ORDER BY customer"));

        // The watermark is in the shared store: the second node does not take the first node's object again.
        await Bucket.PutAsync("lake/raw/events/1.csv", Batches[1]);
        var ingest = await RunOnAsync(second, store, "ingest", "2026-01-02");
        Succeeded(ingest);
        Assert.Equal(2, (await store.GetStepRunsAsync(ingest.Id, CancellationToken.None)).Single(s => s.StepId == "new_events").Rows);
        Succeeded(await RunOnAsync(first, store, "summarize", "2026-01-02"));
        Assert.Equal([["a", 2L, 11.5], ["b", 1L, 4.0], ["c", 1L, 7.0]], await first.QueryDatasetAsync("totals", "SELECT customer, events, amount FROM {dataset} ORDER BY customer"));
    }

    [SkippableFact]
    public async Task Gc_removes_unreferenced_objects_and_dead_staging_from_the_bucket_and_keeps_committed_ones()
    {
        Skip.If(S3TestBucket.Endpoint is null, "MILLRACE_TEST_S3 is not set");
        var node = Node();
        await Bucket.PutAsync("lake/raw/events/0.csv", Batches[0]);
        Succeeded(await node.RunAsync("daily", ("run.date", "2026-01-01")));
        var committed = await Bucket.KeysAsync("lake/datasets/");
        // What a run killed before its commit leaves in the bucket: an unlisted dataset part and a staging folder.
        await Bucket.PutAsync("lake/datasets/events/part-20260101-000000-dead00-history-0.parquet", "orphan");
        await Bucket.PutAsync("lake/_staging/20260101-000000-dead00/ingest/export/events.csv", "staged");

        var report = await new GarbageCollector(node.Open(), await node.StoreAsync()).CollectAsync(dryRun: false, CancellationToken.None);

        Assert.Equal(1, report.DatasetFiles);
        Assert.Equal(1, report.StagingFolders);
        Assert.Equal(committed, await Bucket.KeysAsync("lake/datasets/"));
        Assert.Empty(await Bucket.KeysAsync("lake/_staging/"));
        Assert.Contains("lake/raw/events/0.csv", await Bucket.KeysAsync("lake/raw/"));
        Assert.Equal(2, (await node.QueryDatasetAsync("totals", "SELECT * FROM {dataset}")).Count);
    }

    const string TrainFields = """
        model: churn
        task: binary
        label: churned
        features: [tickets, region]
        options: { iterations: 20 }
        """;

    const string Score = """
        name: score
        steps:
          - id: data
            type: read
            path: raw/customers.csv
          - id: scored
            type: predict
            input: data
            model: churn@champion
          - id: out
            type: write
            input: scored
            path: predictions/churn/dt=${run.date}/
        """;

    [SkippableFact]
    public async Task A_model_trained_on_one_node_scores_on_another_node_as_on_a_local_lake()
    {
        Skip.If(S3TestBucket.Endpoint is null, "MILLRACE_TEST_S3 is not set");
        var (first, second, store) = await TwoNodesAsync();
        await using var local = new TestProject(projectYaml: "id: s3lake\n");
        await Bucket.PutAsync("lake/raw/customers.csv", LearningData.Customers());
        local.LakeFile("raw/customers.csv", LearningData.Customers());
        foreach (var node in new[] { first, second, local }) node.TrainWorkflow("train", "raw/customers.csv", TrainFields).Workflow("score", Score);

        Succeeded(await RunOnAsync(first, store, "train", "2026-01-01"));
        Succeeded(await RunOnAsync(second, store, "score", "2026-01-01"));
        Succeeded(await local.RunAsync("train", ("run.date", "2026-01-01")));
        Succeeded(await local.RunAsync("score", ("run.date", "2026-01-01")));

        Assert.Contains("lake/models/churn/v1/model.zip", await Bucket.KeysAsync("lake/models/"));
        Assert.True(File.Exists(CachePath(second, "models/churn/v1/model.zip")), "the second node fetched the model into its cache");
        const string Scores = "SELECT * EXCLUDE (run_id) FROM read_parquet('{0}') ORDER BY ALL";
        Assert.Equal(
            TestProject.Query(string.Format(System.Globalization.CultureInfo.InvariantCulture, Scores, local.LakePath("predictions/churn/dt=2026-01-01/part-0.parquet"))),
            TestProject.Query(string.Format(System.Globalization.CultureInfo.InvariantCulture, Scores, CachePath(second, "predictions/churn/dt=2026-01-01/part-0.parquet"))));
        Assert.Contains("lake/predictions/churn/dt=2026-01-01/part-0.parquet", await Bucket.KeysAsync("lake/predictions/"));
    }

    [SkippableFact]
    public async Task Quarantined_rows_of_an_S3_landing_zone_are_published_to_the_bucket()
    {
        Skip.If(S3TestBucket.Endpoint is null, "MILLRACE_TEST_S3 is not set");
        var node = Node();
        node.Workflow("orders", """
            name: orders
            steps:
              - id: orders
                type: read
                path: raw/orders/*.csv
                schema: { order_id: BIGINT, amount: DOUBLE }
                incremental: true
                on_error: quarantine
            """);
        await Bucket.PutAsync("lake/raw/orders/day1.csv", "order_id,amount\n1,10\nthree,30\n4,40\n");

        var run = await node.RunAsync("orders", ("run.date", "2026-01-01"));

        Succeeded(run);
        Assert.Equal(2, (await node.StepRunAsync(run.Id, "orders")).Rows);
        var key = $"lake/quarantine/orders/{run.Id}/orders.parquet";
        Assert.Equal([key], await Bucket.KeysAsync("lake/quarantine/"));
        var rows = TestProject.Query($"SELECT file, line, original_line FROM read_parquet('{CachePath(node, key["lake/".Length..])}')");
        Assert.Equal([("raw/orders/day1.csv", 3L, "three,30")], rows.Select(r => ((string)r[0]!, Convert.ToInt64(r[1], System.Globalization.CultureInfo.InvariantCulture), (string)r[2]!)));
    }

    [SkippableFact]
    public async Task A_missing_bucket_fails_the_step_with_what_to_do()
    {
        Skip.If(S3TestBucket.Endpoint is null, "MILLRACE_TEST_S3 is not set");
        await using var node = new TestProject(projectYaml: $"id: s3lake\n{Bucket.LakeYaml().Replace(Bucket.Name, Bucket.Name + "-missing", StringComparison.Ordinal)}");
        node.Workflow("ingest", Ingest);

        var run = await node.RunAsync("ingest", ("run.date", "2026-01-01"));

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal($"step 'new_events': S3 lake: cannot list s3://{Bucket.Name}-missing/lake/raw/events/: the bucket '{Bucket.Name}-missing' does not exist; create it or correct 'lake:' in millrace.yaml", run.Error);
    }

    [SkippableFact]
    public async Task A_listed_object_already_in_the_cache_is_not_downloaded_again_and_a_changed_one_is()
    {
        Skip.If(S3TestBucket.Endpoint is null, "MILLRACE_TEST_S3 is not set");
        var lake = Millrace.Lake.LakeRoot.Open(Node().Open());
        var cached = Path.Combine(lake.Root, "raw", "x.csv");
        async Task FetchAsync() => await lake.Storage.FetchAsync(await lake.Storage.ListAsync("raw/", CancellationToken.None), CancellationToken.None);
        await Bucket.PutAsync("lake/raw/x.csv", "a\n1\n");

        await FetchAsync();
        Assert.Equal("a\n1\n", await File.ReadAllTextAsync(cached));

        // Mark the cached copy, keeping its size and time: the next fetch must take it as current and leave it alone.
        var time = File.GetLastWriteTimeUtc(cached);
        await File.WriteAllTextAsync(cached, "a\n2\n");
        File.SetLastWriteTimeUtc(cached, time);
        await FetchAsync();
        Assert.Equal("a\n2\n", await File.ReadAllTextAsync(cached));

        await Bucket.PutAsync("lake/raw/x.csv", "a\n33\n");
        await FetchAsync();
        Assert.Equal("a\n33\n", await File.ReadAllTextAsync(cached));
    }

    [SkippableFact]
    public async Task A_report_compares_with_the_previous_date_another_node_published_and_renders_as_on_a_local_lake()
    {
        Skip.If(S3TestBucket.Endpoint is null, "MILLRACE_TEST_S3 is not set");
        var (first, second, store) = await TwoNodesAsync();
        await using var local = ReportTestSupport.SalesProject();
        await Bucket.PutAsync("lake/raw/sales.csv", ReportTestSupport.SalesCsv());
        foreach (var node in new[] { first, second }) node.Workflow("sales", ReportTestSupport.SalesWorkflow.Replace("name: daily", "name: sales", StringComparison.Ordinal));

        Succeeded(await RunOnAsync(first, store, "sales", "2026-01-03"));
        Succeeded(await RunOnAsync(second, store, "sales", "2026-01-04"));
        await local.RunForDateAsync("daily", "2026-01-03");
        await local.RunForDateAsync("daily", "2026-01-04");

        // The second node never saw 2026-01-03 in its cache: the KPI history came from the bucket.
        var kpis = Millrace.Reports.KpiHistory.Deserialize(await Bucket.GetAsync("lake/reports/sales/2026-01-04/kpis.json"))!;
        Assert.Equal(new DateOnly(2026, 1, 3), kpis.PreviousDate);
        Assert.Equal((63.0, 57.0), (kpis.Kpis.Single(k => k.Label == "Orders").Value, kpis.Kpis.Single(k => k.Label == "Orders").Previous));
        Assert.Equal(local.ReportFile("sales", "2026-01-04"), await Bucket.GetAsync("lake/reports/sales/2026-01-04/index.html"));
    }
}
