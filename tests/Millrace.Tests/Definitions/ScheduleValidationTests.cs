using Millrace.Definitions;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Definitions;

public sealed class ScheduleValidationTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/a.csv", "x\n1\n").Workflow("ingest", """
            name: ingest
            steps:
              - id: a
                type: read
                path: raw/a.csv
            """);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public void A_cron_minute_out_of_range_is_reported_at_the_cron_value()
    {
        _project.Pipeline("nightly", """
            name: nightly
            workflows: [ingest]
            schedule: {cron: "61 * * * *"}
            """);

        var error = DefinitionAssert.Single(_project.Check(), "bad cron '61 * * * *'");

        Assert.Equal(("pipelines/nightly.yaml", 3), (error.Location.File, error.Location.Line));
        Assert.True(error.Location.Column > 1, error.ToString());
    }

    [Fact]
    public void A_cron_with_the_wrong_number_of_fields_is_reported()
    {
        _project.Pipeline("nightly", """
            name: nightly
            workflows: [ingest]
            schedule: { cron: "0 6 * *" }
            """);

        var error = DefinitionAssert.Single(_project.Check(), "bad cron");

        Assert.Contains("4 fields", error.Message);
    }

    [Fact]
    public void An_unknown_time_zone_is_reported()
    {
        _project.Pipeline("nightly", """
            name: nightly
            workflows: [ingest]
            schedule: { cron: "0 6 * * *", timezone: Mars/Olympus_Mons }
            """);

        var error = DefinitionAssert.Single(_project.Check(), "unknown time zone 'Mars/Olympus_Mons'");

        Assert.Equal("pipelines/nightly.yaml", error.Location.File);
    }

    [Fact]
    public void A_valid_schedule_in_an_IANA_zone_is_accepted()
    {
        _project.Pipeline("nightly", """
            name: nightly
            workflows: [ingest]
            schedule: { cron: "30 6 * * 1-5", timezone: Europe/Paris }
            """);

        DefinitionAssert.None(_project.Check());
        var schedule = _project.Open().Pipelines["nightly"].Schedule;
        Assert.Equal(new ScheduleDefinition("30 6 * * 1-5", "Europe/Paris", schedule!.Location), schedule);
    }
}
