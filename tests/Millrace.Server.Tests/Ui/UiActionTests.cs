using System.Net;
using Millrace.Server.Scheduling;
using Millrace.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Millrace.Server.Tests.Ui;

/// <summary>Actions (forms that change state): the session's CSRF value, same-site posts, the API's roles, the audit log.</summary>
[Collection(UiCollection.Name)]
public sealed class UiActionTests(UiServerFixture fixture)
{
    const string Pause = "/ui/projects/uishop/schedules/daily/pause";

    async Task<bool> PausedAsync()
    {
        var scheduler = fixture.Server.App.Services.GetRequiredService<PipelineScheduler>();
        return (await scheduler.ListAsync(fixture.Server.Host(UiProject.Id), CancellationToken.None)).Single(s => s.Pipeline == UiProject.Daily).Paused;
    }

    [Fact]
    public async Task A_form_without_the_sessions_csrf_value_changes_nothing_and_is_audited()
    {
        using var client = await fixture.SignedInAsync(fixture.Admin);
        var (missing, body) = await client.PostAsync(Pause, []);
        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
        Assert.Contains("out of date", body, StringComparison.Ordinal);
        var (wrong, _) = await client.PostAsync(Pause, [new("csrf", "x" + new string('a', 42))]);
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.False(await PausedAsync());
        var audit = await fixture.Server.Host(UiProject.Id).ServerStore.FindAuditAsync(new Page(0, 20), CancellationToken.None);
        Assert.Contains(audit, a => a.Action == "POST /ui/projects/{projectId}/schedules/{pipeline}/pause" && a.Outcome == 403);
    }

    [Fact]
    public async Task A_form_posted_from_another_site_is_refused_even_with_the_csrf_value()
    {
        using var client = await fixture.SignedInAsync(fixture.Admin);
        var (_, page) = await client.GetAsync("/ui/projects/uishop/schedules");
        var (response, _) = await client.PostAsync(Pause, [new("csrf", UiClient.Csrf(page))], origin: "http://elsewhere.example");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var (fetch, _) = await client.PostAsync(Pause, [new("csrf", UiClient.Csrf(page))], headers: new Dictionary<string, string> { ["Sec-Fetch-Site"] = "cross-site" });
        Assert.Equal(HttpStatusCode.Forbidden, fetch.StatusCode);
        Assert.False(await PausedAsync());

        // Behind a TLS proxy the browser's origin is https://<the public host>; that is this site.
        var (proxied, _) = await client.PostAsync("/ui/projects/uishop/schedules/daily/run", [new("csrf", UiClient.Csrf(page))], origin: "https://millrace.example.com",
            headers: new Dictionary<string, string> { ["X-Forwarded-Host"] = "millrace.example.com", ["X-Forwarded-Proto"] = "https" });
        Assert.Equal(HttpStatusCode.SeeOther, proxied.StatusCode);
        Assert.Contains("/ui/projects/uishop/runs/", proxied.Headers.Location?.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Actions_need_the_same_role_as_their_api_call()
    {
        using var viewer = await fixture.SignedInAsync(fixture.Viewer);
        var (_, page) = await viewer.GetAsync("/ui/projects/uishop/pipelines/daily");
        Assert.DoesNotContain("name=\"workflowParameters\"", page, StringComparison.Ordinal);
        Assert.Contains("Starting a run needs a token with the runner role", page, StringComparison.Ordinal);
        var before = (await fixture.Server.Host(UiProject.Id).Store.FindRunsAsync(new RunFilter(UiProject.Id), new Page(0, 500), CancellationToken.None)).Count;
        var (run, body) = await viewer.PostAsync("/ui/projects/uishop/pipelines/daily/run", [new("csrf", UiClient.Csrf(page)), new("workflowParameters", "")]);
        Assert.Equal(HttpStatusCode.Forbidden, run.StatusCode);
        Assert.Contains("has the role viewer, which may not do this; it needs runner or admin", body, StringComparison.Ordinal);
        Assert.Equal(before, (await fixture.Server.Host(UiProject.Id).Store.FindRunsAsync(new RunFilter(UiProject.Id), new Page(0, 500), CancellationToken.None)).Count);

        // Pausing is for admins, as in the API.
        using var runner = await fixture.SignedInAsync(fixture.Runner);
        var (_, schedules) = await runner.GetAsync("/ui/projects/uishop/schedules");
        var (pause, refusal) = await runner.PostAsync(Pause, [new("csrf", UiClient.Csrf(schedules))]);
        Assert.Equal(HttpStatusCode.Forbidden, pause.StatusCode);
        Assert.Contains("it needs admin", refusal, StringComparison.Ordinal);
        Assert.False(await PausedAsync());
    }

    [Fact]
    public async Task Parameters_that_do_not_parse_start_nothing_and_say_why()
    {
        using var runner = await fixture.SignedInAsync(fixture.Runner);
        var (_, page) = await runner.GetAsync("/ui/projects/uishop/pipelines/daily");
        var (response, _) = await runner.PostAsync("/ui/projects/uishop/pipelines/daily/run", [new("csrf", UiClient.Csrf(page)), new("workflowParameters", "--var region")]);
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("/ui/projects/uishop/pipelines/daily", response.Headers.Location?.OriginalString);
        var (_, after) = await runner.GetAsync("/ui/projects/uishop/pipelines/daily");
        Assert.Contains("The run was not started: parameters:", after, StringComparison.Ordinal);

        var (unknown, _) = await runner.PostAsync("/ui/projects/uishop/pipelines/daily/run", [new("csrf", UiClient.Csrf(page)), new("workflowParameters", "--var colour=red")]);
        Assert.Equal(HttpStatusCode.SeeOther, unknown.StatusCode);
        var (_, again) = await runner.GetAsync("/ui/projects/uishop/pipelines/daily");
        Assert.Contains("The run was not started:", again, StringComparison.Ordinal);
        Assert.Contains("colour", again, StringComparison.Ordinal);
    }
}
