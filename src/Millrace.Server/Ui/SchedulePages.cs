using Microsoft.AspNetCore.Http;
using Millrace.Engine;
using Millrace.Server.Scheduling;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Ui;

/// <summary>Schedules: state and next fire time; pause and resume (admin, as in the API) and run now (runner).</summary>
static class SchedulePages
{
    public static async Task<UiPage> ListAsync(UiRequest request)
    {
        var host = request.Host;
        var schedules = await request.Service<PipelineScheduler>().ListAsync(host, request.Aborted);
        var enabled = request.Service<ServerOptions>().EnableScheduler;
        var rows = schedules.Select(s =>
        {
            var url = UiUrls.Schedule(host.Id, s.Pipeline);
            var toggle = s.Paused
                ? UiLayout.ActionButton(request, url + "/resume", "Resume", TokenRole.Admin, name: "resume")
                : UiLayout.ActionButton(request, url + "/pause", "Pause", TokenRole.Admin, @class: "secondary", name: "pause");
            var runNow = UiLayout.ActionButton(request, url + "/run", "Run now", TokenRole.Runner, @class: "secondary", name: "run-now");
            return Html.Of($"""
                <tr data-pipeline="{s.Pipeline}"><td><a href="{UiUrls.Pipeline(host.Id, s.Pipeline)}">{s.Pipeline}</a></td><td><code>{s.Cron}</code></td><td>{s.Timezone}</td>
                <td class="state">{(s.Paused ? UiLayout.Badge("paused") : UiLayout.Badge("active"))}</td><td>{UiLayout.Time(s.NextFireAt)}</td><td>{UiLayout.Time(s.LastFireAt)}</td>
                <td>{(s.ChangedBy is null ? Html.Of($"<span class=\"muted\">–</span>") : Html.Of($"{s.ChangedBy}, {UiLayout.Time(s.ChangedAt)}"))}</td>
                <td><div class="actions">{toggle}{runNow}</div></td></tr>
                """);
        }).ToList();
        var body = Html.Of($"""
            <h1>Schedules</h1>
            {(enabled ? Html.Empty : Html.Of($"<p class=\"flash error\">This server was started with --no-scheduler: schedules do not fire (run now still works).</p>"))}
            {UiLayout.Table(["Pipeline", "Cron", "Time zone", "State", "Next fire (UTC)", "Last fire (UTC)", "Last paused or resumed", ""], rows, "No pipeline has a schedule: add schedule: { cron: \"0 6 * * *\" } to a pipeline.", "schedules")}
            {UiLayout.RoleNote(request, TokenRole.Admin, "Pausing and resuming a schedule")}
            <p class="muted">A paused schedule stays paused across restarts; resuming it does not run the fire times missed while it was paused.</p>
            """);
        return new UiPage("Schedules", body, Section: "schedules");
    }

    public static async Task<UiOutcome> ChangeAsync(UiRequest request, string pipeline, bool pause, IFormCollection form)
    {
        var host = request.Host;
        var back = UiUrls.Schedules(host.Id);
        Access.Audit(request.Http, $"schedule {pipeline}", new { via = "web UI" });
        if (Missing(host.Definition, pipeline) is { } missing) return UiOutcome.Failed(back, missing, StatusCodes.Status404NotFound);
        var scheduler = request.Service<PipelineScheduler>();
        if (pause) await scheduler.PauseAsync(host, pipeline, request.Actor, request.Aborted);
        else await scheduler.ResumeAsync(host, pipeline, request.Actor, request.Aborted);
        return new UiOutcome(back, $"The schedule of {pipeline} is {(pause ? "paused" : "resumed")}.");
    }

    public static Task<UiOutcome> RunNowAsync(UiRequest request, string pipeline, IFormCollection form)
    {
        var host = request.Host;
        Access.Audit(request.Http, $"schedule {pipeline}", new { via = "web UI" });
        if (Missing(host.Definition, pipeline) is { } missing)
            return Task.FromResult(UiOutcome.Failed(UiUrls.Schedules(host.Id), missing, StatusCodes.Status404NotFound));
        return PipelinePages.SubmitAsync(request, new RunRequest(pipeline, [], TriggerKind.Api), UiUrls.Schedules(host.Id));
    }

    static string? Missing(Definitions.ProjectDefinition project, string pipeline) =>
        !project.Pipelines.TryGetValue(pipeline, out var definition) ? $"No pipeline '{pipeline}'."
        : definition.Schedule is null ? $"Pipeline '{pipeline}' has no schedule." : null;
}
