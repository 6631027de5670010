using Millrace.Definitions;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Definitions;

/// <summary>The pipeline and project fields the server acts on: timeout, notify, misfire and catch_up.</summary>
public sealed class ServerFieldTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/a.csv", "x\n1\n").Workflow("ingest", "name: ingest\nsteps:\n  - id: a\n    type: read\n    path: raw/a.csv\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public void Timeout_notify_and_catch_up_are_read()
    {
        _project.File("millrace.yaml", "id: test\nnotify:\n  - url: https://hooks.example.com/millrace\n    secret: ${env:HOOK_SECRET}\n")
            .Pipeline("nightly", """
                name: nightly
                workflows: [ingest]
                schedule: { cron: "0 6 * * *", timezone: UTC, catch_up: 3 }
                timeout: 90m
                notify:
                  - url: http://127.0.0.1:9000/hook
                    on: [run.succeeded, run.failed]
                    secret: ${env:PIPELINE_HOOK}
                """);

        DefinitionAssert.None(_project.Check());
        var project = _project.Open();
        var pipeline = project.Pipelines["nightly"];
        Assert.Equal(TimeSpan.FromMinutes(90), pipeline.Timeout);
        Assert.Equal(3, pipeline.Schedule!.CatchUp);
        var hook = Assert.Single(pipeline.Notify);
        Assert.Equal(("http://127.0.0.1:9000/hook", "${env:PIPELINE_HOOK}"), (hook.Url, hook.Secret));
        Assert.Equal([NotifyEvents.RunSucceeded, NotifyEvents.RunFailed], hook.Events);
        Assert.Equal(NotifyEvents.Default, Assert.Single(project.Notify).Events);
    }

    [Fact]
    public void Misfire_skip_is_the_default_and_cannot_be_combined_with_catch_up()
    {
        _project.Pipeline("nightly", "name: nightly\nworkflows: [ingest]\nschedule: { cron: \"0 6 * * *\", misfire: skip }\n")
            .Pipeline("both", "name: both\nworkflows: [ingest]\nschedule: { cron: \"0 6 * * *\", misfire: skip, catch_up: 2 }\n")
            .Pipeline("bad", "name: bad\nworkflows: [ingest]\nschedule: { cron: \"0 6 * * *\", misfire: later }\n");

        var errors = _project.Check();

        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Location.File == "pipelines/both.yaml" && e.Message.Contains("either 'misfire: skip' or 'catch_up: N'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Location.File == "pipelines/bad.yaml" && e.Message.Contains("'misfire' must be skip", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("timeout: 0s\n", "'timeout' must be longer than 0s")]
    [InlineData("timeout: soon\n", "field 'timeout' must be a duration")]
    [InlineData("notify:\n  - url: ftp://example.com/x\n    secret: s\n", "'url' must be an absolute http or https URL")]
    [InlineData("notify:\n  - url: https://example.com/x\n", "missing required field 'secret'")]
    [InlineData("notify:\n  - url: https://example.com/x\n    secret: s\n    on: [run.exploded]\n", "unknown notify event 'run.exploded'")]
    [InlineData("notify: https://example.com/x\n", "'notify' must be a list")]
    public void Bad_server_fields_are_reported_where_they_are(string yaml, string expected)
    {
        _project.Pipeline("nightly", "name: nightly\nworkflows: [ingest]\n" + yaml);

        var error = DefinitionAssert.Single(_project.Check(), expected);

        Assert.Equal("pipelines/nightly.yaml", error.Location.File);
        Assert.True(error.Location.Line >= 3, error.ToString());
    }
}
