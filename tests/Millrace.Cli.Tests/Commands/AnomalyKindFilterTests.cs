using Microsoft.Extensions.Time.Testing;
using Millrace.Cli.Tests.TestSupport;
using Millrace.Deadlines;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Lake;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Cli.Tests.Commands;

/// <summary><c>millrace anomalies --kind</c> lists one kind: here a missed deadline, recorded by the library's evaluator on its own clock.</summary>
public sealed class AnomalyKindFilterTests
{
    [Fact]
    public async Task Anomalies_of_one_kind_are_listed_with_no_run_or_step()
    {
        using var directory = new TempDirectory();
        directory.Write("millrace.yaml", "id: shop\n");
        directory.Write("workflows/one.yaml", "name: one\nsteps:\n  - id: a\n    type: sql\n    sql: SELECT 1 AS n\n");
        directory.Write("pipelines/daily.yaml", "name: daily\nworkflows: [one]\ndeadline: { by: \"07:00\", timezone: Europe/Berlin }\n"
            + "freshness: { feed: \"raw/events/dt={date}/*.csv\", by: \"07:00\", timezone: Europe/Berlin }\n");
        var project = Project.Open(directory.Path);
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 15, 6, 0, 5, TimeSpan.Zero));
        await using (var store = await MetadataStores.OpenAsync(project, CancellationToken.None, create: true, clock))
        {
            var evaluation = await new DeadlineEvaluator(project, store, LakeRoot.Open(project), clock, NodeIdentity.Named("quickstart"))
                { Lookback = TimeSpan.FromMinutes(1) }.EvaluateAsync(CancellationToken.None);
            Assert.Equal(2, evaluation.Recorded.Count);
        }

        var result = await Shell.RunAsync("anomalies", "--kind", "deadline_missed", "-p", directory.Path);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("deadline_missed", result.Output, StringComparison.Ordinal);
        Assert.Contains("no run for 2026-01-15", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("freshness_missed", result.Output, StringComparison.Ordinal);
    }
}
