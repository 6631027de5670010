using Millrace.Definitions;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Deadlines;

/// <summary><c>deadline:</c> and <c>freshness:</c> of a pipeline: what is read, and a located error for each kind of bad value.</summary>
public sealed class DeadlineDefinitionTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.Workflow("one", "name: one\nsteps:\n  - id: a\n    type: sql\n    sql: SELECT 1 AS n\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    DefinitionError ErrorOf(string pipelineYaml, string fragment)
    {
        _project.Pipeline("daily", "name: daily\nworkflows: [one]\n" + pipelineYaml);
        var error = DefinitionAssert.Single(_project.Check(), fragment);
        Assert.Equal("pipelines/daily.yaml", error.Location.File);
        return error;
    }

    [Fact]
    public void A_deadline_and_a_list_of_freshness_feeds_are_read()
    {
        _project.Pipeline("daily", """
            name: daily
            workflows: [one]
            deadline: { by: "07:00", timezone: Europe/Berlin }
            freshness:
              - { feed: "raw/events/dt={date}/*.csv", by: "05:00", timezone: Europe/Berlin }
              - { feed: "raw/customers/{date}.csv", by: "23:30", date: yesterday }
            """);

        var pipeline = _project.Open().Pipelines["daily"];

        Assert.Equal(new DueTime(new TimeOnly(7, 0), "Europe/Berlin", 0), pipeline.Deadline!.Due);
        Assert.Equal(["raw/events/dt={date}/*.csv", "raw/customers/{date}.csv"], pipeline.Freshness.Select(f => f.Feed));
        Assert.Equal(new DueTime(new TimeOnly(23, 30), "UTC", 1), pipeline.Freshness[1].Due);
        Assert.Equal("raw/events/dt=2026-03-29/*.csv", pipeline.Freshness[0].PatternFor(new DateOnly(2026, 3, 29)));
    }

    [Fact]
    public void A_single_freshness_mapping_is_one_feed()
    {
        _project.Pipeline("daily", "name: daily\nworkflows: [one]\nfreshness: { feed: \"raw/e/dt={date}/*.csv\", by: \"05:00\" }\n");

        Assert.Single(_project.Open().Pipelines["daily"].Freshness);
    }

    [Theory]
    [InlineData("7am")]
    [InlineData("24:00")]
    [InlineData("7:00")]
    [InlineData("07:60")]
    [InlineData("07:00:00")]
    public void A_by_that_is_not_a_time_of_day_is_reported_at_the_value(string by)
    {
        var error = ErrorOf($"deadline: {{ by: \"{by}\" }}\n", "'by' must be a time of day HH:mm");

        Assert.Equal((3, 17), (error.Location.Line, error.Location.Column)); // at the value
    }

    [Fact]
    public void A_time_zone_that_does_not_exist_is_reported_at_the_value()
    {
        var error = ErrorOf("freshness:\n  - feed: raw/e/dt={date}/*.csv\n    by: \"05:00\"\n    timezone: Europe/Atlantis\n", "unknown time zone 'Europe/Atlantis'");

        Assert.Equal((6, 15), (error.Location.Line, error.Location.Column));
    }

    [Fact]
    public void A_feed_without_date_is_reported()
    {
        var error = ErrorOf("freshness: { feed: raw/events/*.csv, by: \"05:00\" }\n", "has no {date}");

        Assert.Equal(3, error.Location.Line);
    }

    [Fact]
    public void A_deadline_without_by_is_reported_at_its_mapping()
    {
        var error = ErrorOf("deadline: { timezone: UTC }\n", "missing required field 'by'");

        Assert.Equal(3, error.Location.Line);
    }

    [Fact]
    public void An_unknown_date_word_and_an_unknown_key_are_reported()
    {
        _project.Pipeline("daily", "name: daily\nworkflows: [one]\ndeadline: { by: \"07:00\", date: tomorrow, when: now }\n");

        var errors = _project.Check();

        Assert.Equal(3, DefinitionAssert.Single(errors, "'date' must be today or yesterday").Location.Line);
        Assert.Equal(3, DefinitionAssert.Single(errors, "when").Location.Line);
    }

    [Fact]
    public void The_same_feed_twice_is_reported_at_the_second()
    {
        var error = ErrorOf("freshness:\n  - { feed: \"raw/e/{date}.csv\", by: \"05:00\" }\n  - { feed: \"raw/e/{date}.csv\", by: \"06:00\" }\n", "listed twice");

        Assert.Equal(5, error.Location.Line);
    }

    [Theory]
    [Trait("Category", "Security")]
    [InlineData("../elsewhere/{date}/*.csv")]
    [InlineData("raw/../../etc/{date}")]
    [InlineData("/etc/{date}/passwd")]
    [InlineData("s3://other-bucket/{date}/*.csv")]
    [InlineData("raw/%2e%2e/{date}.csv")]
    [InlineData("raw/{date}/${env:HOME}")]
    [InlineData("raw/{day}/{date}.csv")]
    public void A_feed_outside_the_lake_or_with_other_placeholders_is_refused(string feed)
    {
        _project.Pipeline("daily", $"name: daily\nworkflows: [one]\nfreshness: {{ feed: \"{feed}\", by: \"05:00\" }}\n");

        var error = Assert.Single(_project.Check());

        Assert.Contains($"feed '{feed}'", error.Message);
        Assert.Equal(("pipelines/daily.yaml", 3), (error.Location.File, error.Location.Line));
    }
}
