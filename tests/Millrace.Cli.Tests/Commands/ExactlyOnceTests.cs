using Millrace.Cli.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Cli.Tests.Commands;

/// <summary>
/// The exactly-once guarantee, tested for real: a pipeline runs in a child process that kills itself with SIGKILL at
/// a step boundary, in the middle of a write, or around the commit; `millrace retry` then resumes it. The datasets
/// and published files must equal those of a clean run: no row lost, none duplicated.
/// </summary>
public sealed class ExactlyOnceTests : IClassFixture<ExactlyOnceTests.CleanRun>
{
    const string RunDate = "2026-01-03";
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    readonly CleanRun _clean;

    public ExactlyOnceTests(CleanRun clean) => _clean = clean;

    /// <summary>Writes the test project: three days of events (two files a day) and a two-workflow pipeline.</summary>
    internal static void WriteProject(TempDirectory directory)
    {
        directory.Write("millrace.yaml", "id: exactly_once\n");
        directory.Write("workflows/ingest.yaml", """
            name: ingest
            steps:
              - id: new_events
                type: read
                path: raw/events/dt=*/*.csv
                incremental: true
                schema: { event_id: BIGINT, customer_id: BIGINT, amount: DOUBLE, dt: DATE }
              - id: history
                type: merge
                input: new_events
                into: events
                key: [event_id]
                partition_by: [dt]
              - id: export
                type: write
                input: new_events
                path: exports/dt=${run.date}/new_events.csv
            """);
        directory.Write("workflows/summarize.yaml", """
            name: summarize
            steps:
              - id: totals
                type: sql
                inputs: [events]
                sql: SELECT customer_id, count(*) AS events, sum(amount) AS amount FROM events GROUP BY customer_id
              - id: store_totals
                type: write
                input: totals
                dataset: totals
            """);
        directory.Write("pipelines/daily.yaml", "workflows: [ingest, summarize]\n");
        var id = 1;
        for (var day = 1; day <= 3; day++)
            foreach (var file in new[] { "a", "b" })
            {
                var rows = Enumerable.Range(0, 50).Select(_ => { var n = id++; return $"{n},{n % 7},{n * 1.5}"; });
                directory.Write($"lake/raw/events/dt=2026-01-0{day}/{file}.csv", "event_id,customer_id,amount\n" + string.Join("\n", rows) + "\n");
            }
    }

    /// <summary>What a clean run of the pipeline leaves: the reference every crashed-and-retried run must equal.</summary>
    public sealed class CleanRun : IAsyncLifetime
    {
        readonly TempDirectory _directory = new();
        public IReadOnlyList<string> Events { get; private set; } = [];
        public IReadOnlyList<string> Totals { get; private set; } = [];
        public string Export { get; private set; } = "";

        public async Task InitializeAsync()
        {
            WriteProject(_directory);
            var result = await Shell.RunProcessAsync(null, Timeout, "run", "daily", "-p", _directory.Path, "--var", $"run.date={RunDate}");
            Assert.True(result.ExitCode == 0, result.ToString());
            Events = await Committed.RowsAsync(_directory.Path, "events", "event_id");
            Totals = await Committed.RowsAsync(_directory.Path, "totals", "customer_id");
            Export = File.ReadAllText(Path.Combine(_directory.Path, "lake", "exports", $"dt={RunDate}", "new_events.csv"));
        }

        public Task DisposeAsync()
        {
            _directory.Dispose();
            return Task.CompletedTask;
        }
    }

    public static TheoryData<string> CrashPoints() =>
    [
        "ingest.new_events.before", "ingest.new_events.after",
        "ingest.history.before", "ingest.history.mid-write", "ingest.history.after",
        "ingest.export.before", "ingest.export.mid-write", "ingest.export.after",
        "ingest.commit.before", "ingest.commit.after",
        "summarize.totals.before", "summarize.totals.after",
        "summarize.store_totals.before", "summarize.store_totals.mid-write", "summarize.store_totals.after",
        "summarize.commit.before", "summarize.commit.after",
    ];

    [Theory]
    [MemberData(nameof(CrashPoints))]
    public async Task A_run_killed_at_any_point_and_retried_equals_a_clean_run(string point)
    {
        using var directory = new TempDirectory();
        WriteProject(directory);

        var crashed = await Shell.RunProcessAsync(new Dictionary<string, string> { ["MILLRACE_FAULT"] = point }, Timeout,
            "run", "daily", "-p", directory.Path, "--var", $"run.date={RunDate}");
        Assert.True(crashed.ExitCode != 0 && crashed.Error.Contains($"killing the process at {point}", StringComparison.Ordinal), crashed.ToString());

        var runId = Assert.Single(await Committed.RunsAsync(directory.Path)).Id;
        var retried = await Shell.RunProcessAsync(null, Timeout, "retry", runId, "-p", directory.Path);
        Assert.True(retried.ExitCode == 0, retried.ToString());

        Assert.Equal(_clean.Events, await Committed.RowsAsync(directory.Path, "events", "event_id"));
        Assert.Equal(300, (await Committed.RowsAsync(directory.Path, "events", "event_id")).Select(r => r.Split(',')[0]).Distinct().Count());
        Assert.Equal(_clean.Totals, await Committed.RowsAsync(directory.Path, "totals", "customer_id"));
        Assert.Equal(_clean.Export, File.ReadAllText(Path.Combine(directory.Path, "lake", "exports", $"dt={RunDate}", "new_events.csv")));

        var runs = await Committed.RunsAsync(directory.Path);
        var original = runs.Single(r => r.Id == runId);
        Assert.Equal(RunStatus.Failed, original.Status);
        Assert.Contains("interrupted", original.Error, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Succeeded, runs.Single(r => r.Id != runId).Status);
        Assert.Equal(RunDate, runs.Single(r => r.Id != runId).RunDate.ToString("yyyy-MM-dd"));

        // Nothing the crash left behind survives gc, and gc keeps every committed file.
        var gc = await Shell.RunAsync("gc", "-p", directory.Path);
        Assert.True(gc.ExitCode == 0, gc.ToString());
        Assert.Empty(Directory.Exists(Path.Combine(directory.Path, "lake", "_staging")) ? Directory.GetFiles(Path.Combine(directory.Path, "lake", "_staging"), "*", SearchOption.AllDirectories) : []);
        Assert.Equal(_clean.Events, await Committed.RowsAsync(directory.Path, "events", "event_id"));
    }
}
