using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Millrace.Cli.Tests.TestSupport;
using Millrace.Definitions;
using Millrace.Storage;
using Millrace.Tests.TestSupport;
using Xunit.Abstractions;

namespace Millrace.Cli.Tests.Commands;

/// <summary>
/// Two <c>millrace serve</c> nodes on loopback share one PostgreSQL store (with the clustered Quartz scheduler in
/// it) and one lake. Five pipelines fire every two seconds while files keep landing; one node is killed with
/// SIGKILL in the middle of a run. Each of the 50 fire times in the window must be recorded once and executed by one
/// node, the killed node's runs must be taken over and resumed by the survivor, and every landed row must be in the
/// datasets exactly once. Needs <c>MILLRACE_TEST_POSTGRES</c> (./test.sh starts a server); skipped without it.
/// It runs alone (<see cref="FailoverCollection"/>): its node timeout and fire times are seconds long, and other tests
/// sharing the two cores starved the nodes' heartbeats in CI (a node taken for dead while alive is not the failure tested).
/// </summary>
[Collection(FailoverCollection.Name)]
public sealed partial class FailoverTests(ITestOutputHelper output)
{
    const int Pipelines = 5;
    const int FiresPerPipeline = 10;
    const int EverySeconds = 2;
    static readonly TimeSpan Lease = TimeSpan.FromSeconds(5);

    [GeneratedRegex(@"serving \d+ project\(s\) on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Serving();

    [GeneratedRegex(@"node (\S+) executes run (\S+) of")]
    private static partial Regex Executes();

    /// <summary>The lakes the nodes share: one folder both use, or an S3 bucket with a cache folder per node.</summary>
    public static TheoryData<string> Lakes => ["folder", "s3"];

    [SkippableTheory]
    [MemberData(nameof(Lakes))]
    public async Task Two_nodes_fire_each_schedule_once_and_the_survivor_resumes_the_killed_nodes_runs(string lake)
    {
        await using var database = await PostgresTestDatabase.CreateAsync("millrace_failover");
        using var bucket = lake == "s3" ? await S3TestBucket.CreateAsync() : null;
        // A project folder per node and one for the test to read with: on a folder lake they all point at one lake;
        // on S3 each has its own cache of the bucket.
        using var directory = new TempDirectory();
        using var nodeA = new TempDirectory();
        using var nodeB = new TempDirectory();
        var nodes = new List<Node>();
        try
        {
            var store = database.ConnectionString;
            var lakeYaml = bucket?.LakeYaml() ?? $"lake: '{Path.Combine(directory.Path, "lake")}'\n";
            foreach (var folder in new[] { directory, nodeA, nodeB }) WriteProject(folder, store, lakeYaml);
            var landed = new Landing(bucket is null
                ? (key, content) => { WriteLanded(Path.Combine(directory.Path, key), content); return Task.CompletedTask; }
                : bucket.PutAsync);
            await landed.DropAsync(); // something to ingest from the first fire on

            nodes.Add(await Node.StartAsync(nodeA.Path, "node-a"));
            nodes.Add(await Node.StartAsync(nodeB.Path, "node-b"));
            var (victim, survivor) = (nodes[0], nodes[1]);

            // The window: the next 10 fire times of every pipeline, starting a little after both nodes are up.
            var now = DateTimeOffset.UtcNow;
            var first = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, now.Second, TimeSpan.Zero).AddSeconds(3);
            while (first.Second % EverySeconds != 0) first = first.AddSeconds(1);
            var windowEnd = first.AddSeconds(EverySeconds * FiresPerPipeline);
            var expectedKeys = Enumerable.Range(0, FiresPerPipeline)
                .Select(i => "schedule:" + first.AddSeconds(i * EverySeconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)).ToList();

            // Files land all along the window (one every 150 ms, round robin over the pipelines).
            using var landing = new CancellationTokenSource();
            var dropping = Task.Run(async () =>
            {
                while (DateTimeOffset.UtcNow < windowEnd && !landing.IsCancellationRequested)
                {
                    await landed.DropAsync();
                    await Task.Delay(150);
                }
            });

            // Kill the first node with SIGKILL while it executes a run, a third into the window.
            await Delay(first.AddSeconds(EverySeconds * 3) - DateTimeOffset.UtcNow);
            var (killed, lastHeartbeat, killedAt) = await KillMidRunAsync(directory.Path, victim, TimeSpan.FromSeconds(30));
            await dropping;

            // Wait until every run of the window ended and the killed node's runs were resumed, and every file is in.
            var project = Project.Open(directory.Path);
            await using var metadata = await MetadataStores.OpenAsync(project, CancellationToken.None);
            var deadline = Stopwatch.StartNew();
            IReadOnlyList<Run> runs = [];
            while (deadline.Elapsed < TimeSpan.FromSeconds(120))
            {
                runs = await metadata.FindRunsAsync(new RunFilter(), new Page(0, 10_000), CancellationToken.None);
                var done = killed.All(id => runs.Any(r => r.ParentRunId == id && r.Status == RunStatus.Succeeded))
                    && Window(runs, expectedKeys).Count == Pipelines * FiresPerPipeline
                    && Window(runs, expectedKeys).All(r => r.Status is not (RunStatus.Queued or RunStatus.Running))
                    && await AllIngestedAsync(directory.Path, landed);
                if (done) break;
                await Task.Delay(500);
            }
            await survivor.StopAsync();

            runs = await metadata.FindRunsAsync(new RunFilter(), new Page(0, 10_000), CancellationToken.None);
            var window = Window(runs, expectedKeys);
            var executions = nodes.SelectMany(n => Executes().Matches(n.Output).Select(m => (Node: n.Owns(m.Groups[1].Value) ? n : null, Run: m.Groups[2].Value))).ToList();
            var resumed = runs.Where(r => r.ParentRunId is { } parent && killed.Contains(parent)).ToList();
            output.WriteLine($"fire times in the window: {Pipelines} pipelines x {FiresPerPipeline} = {Pipelines * FiresPerPipeline}; runs recorded for them: {window.Count}");
            output.WriteLine($"runs executed: {executions.Count} ({executions.Count(e => e.Node == victim)} on the killed node, {executions.Count(e => e.Node == survivor)} on the survivor); executed twice: {executions.Count - executions.Select(e => e.Run).Distinct().Count()}");
            output.WriteLine($"killed mid-run: {string.Join(", ", killed)}; resumed by the survivor as: {string.Join(", ", resumed.Select(r => $"{r.Id} ({r.Status})"))}");
            output.WriteLine($"taken over after: {string.Join(", ", resumed.Select(r => $"{(r.CreatedAt - killedAt).TotalSeconds:0.0}s"))} (node timeout {Lease.TotalSeconds}s; last heartbeat {(killedAt - lastHeartbeat).TotalSeconds:0.0}s before the kill)");
            output.WriteLine($"fires Quartz delivered again after the kill (recorded once, by run key): {nodes.Sum(n => Regex.Count(n.Output, "a recovered fire"))}");
            output.WriteLine($"rows landed: {landed.Rows.Values.Sum(v => v.Count)}");

            // Each fire time recorded once, per pipeline (the run key is unique, so count the fires the logs show too).
            Assert.Equal(Pipelines * FiresPerPipeline, window.Count);
            foreach (var pipeline in Enumerable.Range(1, Pipelines).Select(i => $"p{i}"))
                Assert.Equal(expectedKeys, window.Where(r => r.Target == pipeline).Select(r => r.RunKey).Order(StringComparer.Ordinal));
            // No run executed twice, on one node or across both.
            Assert.Equal(executions.Count, executions.Select(e => e.Run).Distinct().Count());
            // The killed node's runs were taken over: failed with the reason, resumed once, and the resumption succeeded.
            Assert.NotEmpty(killed);
            foreach (var id in killed)
            {
                var run = runs.Single(r => r.Id == id);
                Assert.Equal(RunStatus.Failed, run.Status);
                Assert.Contains("stopped sending heartbeats", run.Error, StringComparison.Ordinal);
                var resumption = Assert.Single(runs, r => r.ParentRunId == id);
                Assert.Equal(RunStatus.Succeeded, resumption.Status);
                Assert.Contains(executions, e => e.Run == resumption.Id && e.Node == survivor);
                // Found dead by its lapsed heartbeat (the nodes are different hosts to each other): not before the
                // timeout after its last heartbeat, and not long after it.
                Assert.InRange(resumption.CreatedAt - lastHeartbeat, Lease, Lease + TimeSpan.FromSeconds(15));
            }
            // Every other run of the window succeeded.
            Assert.All(window.Where(r => !killed.Contains(r.Id)), r => Assert.Equal(RunStatus.Succeeded, r.Status));

            // No data lost or duplicated: every landed row once; one marker per committed workflow run.
            for (var i = 1; i <= Pipelines; i++)
            {
                var events = await Committed.RowsAsync(directory.Path, $"events_p{i}", "event_id");
                Assert.Equal(landed.Rows[i].Order(), events.Select(e => long.Parse(e.Split(',')[0], CultureInfo.InvariantCulture)));
                var markers = (await Committed.RowsAsync(directory.Path, $"fires_p{i}", "run_id")).Select(m => m.Split(',')[0]).ToList();
                var committed = new List<string>();
                foreach (var run in runs.Where(r => r.Target == $"p{i}"))
                    if ((await metadata.GetWorkflowRunsAsync(run.Id, CancellationToken.None)).Any(w => w.CommittedAt is not null)) committed.Add(run.Id);
                Assert.Equal(committed.Order(StringComparer.Ordinal), markers.Order(StringComparer.Ordinal));
            }
        }
        finally
        {
            foreach (var node in nodes) node.Dispose();
        }
    }

    /// <summary>Writes a landed file aside and renames it into place, as a landing tool does, so a listing never sees half of it.</summary>
    static void WriteLanded(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path + ".tmp", content);
        File.Move(path + ".tmp", path);
    }

    static List<Run> Window(IReadOnlyList<Run> runs, IReadOnlyList<string> keys) =>
        runs.Where(r => r.RunKey is not null && keys.Contains(r.RunKey)).ToList();

    static Task Delay(TimeSpan wait) => wait > TimeSpan.Zero ? Task.Delay(wait) : Task.CompletedTask;

    /// <summary>
    /// Waits for a run the node executes, freezes the node (SIGSTOP) so the run cannot finish meanwhile, and kills it
    /// with SIGKILL if it still owns a run (else lets it go on and waits for the next). Returns the runs it owned and
    /// its last heartbeat and when it was killed.
    /// </summary>
    static async Task<(IReadOnlyList<string> Runs, DateTimeOffset LastHeartbeat, DateTimeOffset KilledAt)> KillMidRunAsync(string projectDirectory, Node node, TimeSpan within)
    {
        var project = Project.Open(projectDirectory);
        await using var store = await MetadataStores.OpenAsync(project, CancellationToken.None);
        async Task<List<string>> OwnedAsync() =>
            (await store.GetRunningRunsAsync(CancellationToken.None)).Where(r => node.Owns(r.Owner)).Select(r => r.Run.Id).ToList();
        var limit = Stopwatch.StartNew();
        while (limit.Elapsed < within)
        {
            if ((await OwnedAsync()).Count > 0)
            {
                await node.SignalAsync("STOP");
                if ((await OwnedAsync()).Count > 0)
                {
                    node.Kill();
                    var killedAt = DateTimeOffset.UtcNow;
                    // A claim the node sent just before it froze may reach the database after the check above: read
                    // what it owns once its connections are gone (well before the node timeout lets a peer take over).
                    await Task.Delay(500);
                    var owned = await OwnedAsync();
                    var last = (await store.GetClusterNodesAsync(CancellationToken.None)).Single(n => node.Owns(n.Node)).HeartbeatAt;
                    return (owned, last, killedAt);
                }
                await node.SignalAsync("CONT");
            }
            await Task.Delay(10);
        }
        throw new TimeoutException($"node {node.Id} never executed a run within {within}:{Environment.NewLine}{node.Output}");
    }

    static async Task<bool> AllIngestedAsync(string projectDirectory, Landing landed)
    {
        for (var i = 1; i <= Pipelines; i++)
            if ((await Committed.RowsAsync(projectDirectory, $"events_p{i}", "event_id")).Count != landed.Rows[i].Count) return false;
        return true;
    }

    static void WriteProject(TempDirectory directory, string store, string lake)
    {
        directory.Write("millrace.yaml", $"id: failover\nstore: '{store}'\n{lake}");
        for (var i = 1; i <= Pipelines; i++)
        {
            directory.Write($"workflows/w{i}.yaml", $$"""
                name: w{{i}}
                steps:
                  - id: new_events
                    type: read
                    path: raw/p{{i}}/*.csv
                    incremental: true
                    schema: { event_id: BIGINT, amount: DOUBLE }
                    # s3rver lists an object while it is still writing it, at 0 bytes (S3 itself never shows a
                    # partial object): skipped then, it is taken when it has its bytes (a rewrite, reprocessed).
                    allow_empty: true
                  - id: marker
                    type: sql
                    inputs: [new_events]
                    sql: SELECT '${run.id}' AS run_id, (SELECT count(*) FROM new_events) AS events
                  - id: store_events
                    type: write
                    input: new_events
                    dataset: events_p{{i}}
                    mode: append
                  - id: store_marker
                    type: write
                    input: marker
                    dataset: fires_p{{i}}
                    mode: append
                """);
            directory.Write($"pipelines/p{i}.yaml", $$"""
                name: p{{i}}
                workflows: [w{{i}}]
                schedule: { cron: "*/{{EverySeconds}} * * * * *", timezone: UTC }
                concurrency: { max_active: 1, on_overlap: queue }
                """);
        }
    }

    /// <summary>Drops small CSV files into the landing zone, round robin over the pipelines, and remembers every row.</summary>
    sealed class Landing(Func<string, string, Task> put)
    {
        long _next = 1;
        int _files;
        public Dictionary<int, List<long>> Rows { get; } = Enumerable.Range(1, Pipelines).ToDictionary(i => i, _ => new List<long>());

        public async Task DropAsync()
        {
            var pipeline = _files % Pipelines + 1;
            var ids = Enumerable.Range(0, 20).Select(_ => _next++).ToList();
            await put($"lake/raw/p{pipeline}/f{_files++:D5}.csv", "event_id,amount\n" + string.Join("\n", ids.Select(id => $"{id},{id * 0.5}")) + "\n");
            lock (Rows) Rows[pipeline].AddRange(ids);
        }
    }

    /// <summary>One <c>millrace serve</c> process: its node id, and everything it printed.</summary>
    sealed class Node : IDisposable
    {
        readonly Process _process;
        readonly StringBuilder _output = new();
        readonly Task _pump;

        readonly string _name;

        Node(Process process, string name)
        {
            _process = process;
            _name = name;
            _pump = Task.WhenAll(Pump(process.StandardOutput), Pump(process.StandardError));
        }

        /// <summary>The node id it writes in the store (<c>host|pid|start-ticks</c>, as <c>NodeIdentity</c> makes it), read from its log.</summary>
        public string Id => Executes().Match(Output) is { Success: true } m && m.Groups[1].Value.Contains($"|{_process.Id}|", StringComparison.Ordinal)
            ? m.Groups[1].Value : $"{Environment.MachineName}|{_process.Id}|?";

        /// <summary>True when <paramref name="owner"/> (a run's owner in the store) is this node.</summary>
        public bool Owns(string? owner) => owner is not null && owner.Split('|') is [var host, var pid, _]
            && host == _name && pid == _process.Id.ToString(CultureInfo.InvariantCulture);

        public string Output { get { lock (_output) return _output.ToString(); } }

        /// <summary>
        /// Starts a node named <paramref name="name"/> (<c>MILLRACE_NODE_NAME</c>): nodes with different names are
        /// different machines to each other, so a dead one is found only by its heartbeat lapsing, as across hosts.
        /// </summary>
        public static async Task<Node> StartAsync(string projectDirectory, string name)
        {
            var node = new Node(Shell.Start(new Dictionary<string, string> { ["MILLRACE_NODE_NAME"] = name }, "serve", "-p", projectDirectory, "--urls", "http://127.0.0.1:0",
                "--heartbeat", "0.5s", "--node-timeout", $"{Lease.TotalSeconds}s", "--max-runs", "2", "--shutdown-timeout", "10s"), name);
            var limit = Stopwatch.StartNew();
            while (!Serving().IsMatch(node.Output))
            {
                if (node._process.HasExited || limit.Elapsed > TimeSpan.FromSeconds(90))
                    throw new InvalidOperationException("serve did not start: " + node.Output);
                await Task.Delay(100);
            }
            return node;
        }

        async Task Pump(StreamReader reader)
        {
            while (await reader.ReadLineAsync() is { } line)
                lock (_output) _output.AppendLine(line);
        }

        public async Task SignalAsync(string signal)
        {
            using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }

        public void Kill()
        {
            _process.Kill(); // SIGKILL: no shutdown, no finally blocks
            _process.WaitForExit();
        }

        public async Task StopAsync()
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            await _pump;
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }
    }
}

/// <summary>The failover tests run after the parallel tests, with nothing else on the machine's cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FailoverCollection
{
    public const string Name = "failover (alone)";
}
