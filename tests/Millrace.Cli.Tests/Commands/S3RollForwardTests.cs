using Millrace.Cli.Tests.TestSupport;
using Millrace.Tests.TestSupport;

namespace Millrace.Cli.Tests.Commands;

/// <summary>
/// On an S3 lake a run's staged files are in the bucket before its commit, so when the node that committed dies
/// before publishing, another node (another project folder and cache, the same bucket and store) publishes them.
/// The first node is a child process killed with SIGKILL right after its commit (MILLRACE_FAULT).
/// </summary>
public sealed class S3RollForwardTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [SkippableFact]
    public async Task A_commit_whose_node_died_before_publishing_is_published_by_another_node()
    {
        using var bucket = await S3TestBucket.CreateAsync();
        using var first = new TempDirectory();
        using var second = new TempDirectory();
        var store = Path.Combine(first.Path, "shared.db");
        foreach (var node in new[] { first, second })
        {
            node.Write("millrace.yaml", $"id: rollforward\n{bucket.LakeYaml()}store: sqlite:{store}\n");
            node.Write("workflows/ingest.yaml", """
                name: ingest
                steps:
                  - id: new_events
                    type: read
                    path: raw/events/*.csv
                    incremental: true
                  - id: history
                    type: write
                    input: new_events
                    dataset: events
                    mode: append
                  - id: export
                    type: write
                    input: new_events
                    path: exports/dt=${run.date}/events.csv
                """);
        }
        await bucket.PutAsync("lake/raw/events/a.csv", "event_id,amount\n1,2.5\n2,4\n");
        var credentials = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID")!,
            ["AWS_SECRET_ACCESS_KEY"] = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY")!,
        };

        var killed = await Shell.RunProcessAsync(new Dictionary<string, string>(credentials) { ["MILLRACE_FAULT"] = "ingest.commit.after" }, Timeout,
            "run", "ingest", "-p", first.Path, "--var", "run.date=2026-01-01");

        Assert.True(killed.ExitCode == 137, killed.ToString());
        Assert.Contains("MILLRACE_FAULT: killing the process at ingest.commit.after", killed.Error, StringComparison.Ordinal);
        var staged = Assert.Single(await bucket.KeysAsync("lake/_staging/"));
        Assert.EndsWith("/ingest/export/events.csv", staged, StringComparison.Ordinal);
        Assert.Empty(await bucket.KeysAsync("lake/exports/"));
        var stagedBytes = await bucket.GetAsync(staged);

        // A node configured with a bucket that does not exist fails; it never takes the staged files for published.
        using (var misconfigured = new TempDirectory())
        {
            misconfigured.Write("millrace.yaml", $"id: rollforward\n{bucket.LakeYaml().Replace(bucket.Name, bucket.Name + "-typo", StringComparison.Ordinal)}store: sqlite:{store}\n");
            var failed = await Shell.RunAsync("gc", "-p", misconfigured.Path);
            Assert.True(failed.ExitCode == 1, failed.ToString());
            Assert.Contains($"the bucket '{bucket.Name}-typo' does not exist", failed.Error, StringComparison.Ordinal);
            Assert.Equal([staged], await bucket.KeysAsync("lake/_staging/"));
        }

        // The second node's next command rolls the commit forward from the bucket (its own cache never saw the file).
        var gc = await Shell.RunAsync("gc", "-p", second.Path);

        Assert.True(gc.ExitCode == 0, gc.ToString());
        Assert.Equal(["lake/exports/dt=2026-01-01/events.csv"], await bucket.KeysAsync("lake/exports/"));
        Assert.Equal(stagedBytes, await bucket.GetAsync("lake/exports/dt=2026-01-01/events.csv"));
        Assert.Contains("event_id", stagedBytes, StringComparison.Ordinal);
        Assert.Empty(await bucket.KeysAsync("lake/_staging/"));
        // The killed run is marked interrupted, and what it committed (the dataset version and watermark) stays.
        var runs = await Shell.RunAsync("runs", "-p", second.Path);
        Assert.Contains("failed", runs.Output, StringComparison.Ordinal);
        await bucket.PutAsync("lake/raw/events/b.csv", "event_id,amount\n3,1.5\n");
        var next = await Shell.RunAsync("run", "ingest", "-p", second.Path, "--var", "run.date=2026-01-02");
        Assert.True(next.ExitCode == 0, next.ToString());
        Assert.Single(await bucket.KeysAsync("lake/exports/dt=2026-01-02/"));
        Assert.Equal(2, (await bucket.KeysAsync("lake/datasets/events/")).Count);
    }
}
