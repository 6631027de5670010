using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Millrace.Engine;
using Millrace.Server.Execution;
using Millrace.Server.Hosting;
using Millrace.Server.Scheduling;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Api;

/// <summary>Schedules: list with state and next fire time, pause, resume (both kept across restarts), run now.</summary>
public static class ScheduleEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var schedules = api.MapGroup("/projects/{projectId}/schedules").WithTags("Schedules");
        schedules.MapGet("", ListAsync)
            .RequireRole(TokenRole.Viewer).WithSummary("List the project's schedules").Produces<List<ScheduleStateView>>();
        schedules.MapPost("/{pipeline}/pause", (HttpContext http, string pipeline, PipelineScheduler scheduler) => ChangeAsync(http, pipeline, scheduler, pause: true))
            .RequireRole(TokenRole.Admin).WithSummary("Pause a schedule (kept across restarts)").Produces<ScheduleStateView>().ProducesProblem(404);
        schedules.MapPost("/{pipeline}/resume", (HttpContext http, string pipeline, PipelineScheduler scheduler) => ChangeAsync(http, pipeline, scheduler, pause: false))
            .RequireRole(TokenRole.Admin).WithSummary("Resume a schedule from now on (fire times missed while paused are not run)").Produces<ScheduleStateView>().ProducesProblem(404);
        schedules.MapPost("/{pipeline}/run", RunNowAsync)
            .RequireRole(TokenRole.Runner).WithSummary("Run the scheduled pipeline now (a run request like an API call)").Produces<RunAccepted>(202).ProducesProblem(404);
    }

    static async Task<IResult> ListAsync(HttpContext http, PipelineScheduler scheduler) =>
        TypedResults.Ok((await scheduler.ListAsync(Access.CallerOf(http).Host, http.RequestAborted)).Select(Views.Schedule).ToList());

    static async Task<IResult> ChangeAsync(HttpContext http, string pipeline, PipelineScheduler scheduler, bool pause)
    {
        var caller = Access.CallerOf(http);
        var host = caller.Host;
        if (NoSchedule(host, pipeline) is { } missing) return missing;
        Access.Audit(http, $"schedule {pipeline}");
        if (pause) await scheduler.PauseAsync(host, pipeline, caller.Actor, http.RequestAborted);
        else await scheduler.ResumeAsync(host, pipeline, caller.Actor, http.RequestAborted);
        var state = (await scheduler.ListAsync(host, http.RequestAborted)).Single(s => s.Pipeline == pipeline);
        return TypedResults.Ok(Views.Schedule(state));
    }

    static async Task<IResult> RunNowAsync(HttpContext http, string pipeline, RunExecutor executor)
    {
        var host = Access.CallerOf(http).Host;
        if (NoSchedule(host, pipeline) is { } missing) return missing;
        return await SparkflowsEndpoints.SubmitAsync(http, executor, host, new RunRequest(pipeline, [], TriggerKind.Api), null, "parameters");
    }

    static IResult? NoSchedule(ProjectHost host, string pipeline)
    {
        if (!host.Definition.Pipelines.TryGetValue(pipeline, out var definition)) return ProjectEndpoints.NoPipeline(host, pipeline);
        return definition.Schedule is null ? Problems.NotFound($"pipeline '{pipeline}' has no schedule (add schedule: {{ cron: \"0 6 * * *\" }} to {definition.Location.File})") : null;
    }
}
