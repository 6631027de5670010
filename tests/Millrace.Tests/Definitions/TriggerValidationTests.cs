using Millrace.Definitions;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Definitions;

/// <summary>
/// <c>trigger:</c> of a pipeline: a good one loads into <see cref="TriggerDefinition"/>; each bad pattern or value is a
/// definition error at its line and column. The patterns come from whoever writes the definitions, but a pattern that
/// leaves the lake must never be listed, so those are security tests too.
/// </summary>
public sealed class TriggerValidationTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.Workflow("stamp", "name: stamp\nsteps:\n  - id: d\n    type: sql\n    sql: SELECT 1 AS d\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    IReadOnlyList<DefinitionError> Check(string trigger)
    {
        _project.Pipeline("daily", "workflows: [stamp]\ntrigger:\n" + trigger);
        return _project.Check();
    }

    [Fact]
    public void A_trigger_loads_with_its_feeds_split_at_the_date_and_its_defaults()
    {
        _project.Pipeline("daily", """
            workflows: [stamp]
            trigger:
              when_landed:
                - raw/events/dt={date}/*.csv
                - raw/customers/customers_{date:yyyyMMdd}.csv
              from: 2026-01-01
            """);

        var trigger = _project.Open().Pipelines["daily"].Trigger!;

        Assert.Equal(("raw/events/dt=", "yyyy-MM-dd", "/*.csv", "raw/events/"), (trigger.Feeds[0].Prefix, trigger.Feeds[0].DateFormat, trigger.Feeds[0].Suffix, trigger.Feeds[0].Folder));
        Assert.Equal("raw/customers/customers_20260302.csv", trigger.Feeds[1].GlobFor(new DateOnly(2026, 3, 2)));
        Assert.Equal(new DateOnly(2026, 3, 2), trigger.Feeds[1].DateOf("raw/customers/customers_20260302.csv"));
        Assert.Equal((TimeSpan.FromMinutes(2), TimeSpan.FromDays(7), TimeSpan.FromSeconds(30), LatePolicy.Rerun, new DateOnly(2026, 1, 1)),
            (trigger.Settle, trigger.LateWindow, trigger.Poll, trigger.OnLate, trigger.From));
    }

    [Theory]
    [InlineData("raw/events/*.csv", "it has no {date}")]
    [InlineData("raw/{date}/x_{date}.csv", "more than once")]
    [InlineData("raw/*/dt={date}/*.csv", "a wildcard comes before {date}")]
    [InlineData("raw/events/dt={date:yyyy-MM}/*.csv", "does not name a whole day")]
    [InlineData("raw/events/dt={date:dd-MM-yyyy}/*.csv", "is not supported")]
    [InlineData("raw/events/{date}1.csv", "a digit follows {date}")]
    [InlineData("raw/events/{date}/{hour}.csv", "only {date} may be written in braces")]
    public void A_bad_pattern_is_reported_at_its_line_and_column(string pattern, string fragment)
    {
        var error = DefinitionAssert.Single(Check($"  when_landed: [\"raw/customers/dt={{date}}/*.csv\", \"{pattern}\"]\n  from: 2026-01-01\n"), fragment);

        Assert.Equal(("pipelines/daily.yaml", 3), (error.Location.File, error.Location.Line));
        Assert.True(error.Location.Column > 30, error.ToString());
    }

    [Theory]
    [Trait("Category", "Security")]
    [InlineData("../outside/dt={date}/*.csv")]
    [InlineData("raw/../../etc/dt={date}/*.csv")]
    [InlineData("/etc/dt={date}/*.csv")]
    [InlineData("s3://other-bucket/dt={date}/*.csv")]
    [InlineData("raw\\\\events\\\\dt={date}.csv")]
    [InlineData("raw//dt={date}.csv")]
    public void A_pattern_outside_the_lake_is_refused(string pattern)
    {
        var error = DefinitionAssert.Single(Check($"  when_landed: [\"{pattern}\"]\n  from: 2026-01-01\n"), "must be a path inside the lake");

        Assert.Equal(3, error.Location.Line);
    }

    [Fact]
    public void The_same_feed_twice_is_reported_at_the_second()
    {
        var error = DefinitionAssert.Single(Check("  when_landed:\n    - raw/e/dt={date}/*.csv\n    - raw/e/dt={date}/*.csv\n  from: 2026-01-01\n"), "is named twice");

        Assert.Equal(5, error.Location.Line);
    }

    [Theory]
    [InlineData("  when_landed: []\n  from: 2026-01-01\n", "at least one pattern holding {date}", 3)]
    [InlineData("  from: 2026-01-01\n", "at least one pattern holding {date}", 3)]
    [InlineData("  when_landed: [\"raw/e/dt={date}/*.csv\"]\n", "a trigger needs 'from: yyyy-MM-dd'", 3)]
    [InlineData("  when_landed: [\"raw/e/dt={date}/*.csv\"]\n  from: 2026-13-01\n", "field 'from' must be a date", 4)]
    [InlineData("  when_landed: [\"raw/e/dt={date}/*.csv\"]\n  from: 2026-01-01\n  settle: soon\n", "field 'settle' must be a duration", 5)]
    [InlineData("  when_landed: [\"raw/e/dt={date}/*.csv\"]\n  from: 2026-01-01\n  settle: 2d\n", "field 'settle' must be at most 1d", 5)]
    [InlineData("  when_landed: [\"raw/e/dt={date}/*.csv\"]\n  from: 2026-01-01\n  poll: 0s\n", "field 'poll' must be longer than 0s", 5)]
    [InlineData("  when_landed: [\"raw/e/dt={date}/*.csv\"]\n  from: 2026-01-01\n  late_window: 12h\n", "field 'late_window' must be at least 1d", 5)]
    [InlineData("  when_landed: [\"raw/e/dt={date}/*.csv\"]\n  from: 2026-01-01\n  on_late: redo\n", "'on_late' must be rerun, ignore or mark_stale", 5)]
    [InlineData("  when_landed: [\"raw/e/dt={date}/*.csv\"]\n  from: 2026-01-01\n  every: 5m\n", "every", 5)]
    public void A_bad_value_is_reported_at_its_line(string trigger, string fragment, int line)
    {
        var error = DefinitionAssert.Single(Check(trigger), fragment);

        Assert.Equal(("pipelines/daily.yaml", line), (error.Location.File, error.Location.Line));
    }
}
