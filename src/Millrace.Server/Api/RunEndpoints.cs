using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Millrace.Engine;
using Millrace.Engine.Dates;
using Millrace.Parameters;
using Millrace.Server.Execution;
using Millrace.Server.Hosting;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Api;

/// <summary>Runs: list (filter, paging), one run with its workflows and steps, logs, cancel, rerun, retry; backfill.</summary>
public static class RunEndpoints
{
    const int MaxLimit = 500;

    public static void Map(RouteGroupBuilder api)
    {
        var runs = api.MapGroup("/projects/{projectId}/runs").WithTags("Runs");
        runs.MapGet("", ListAsync)
            .RequireRole(TokenRole.Viewer).WithSummary("List runs, newest first (filters: pipeline, status, runDate; paging: offset, limit)")
            .Produces<RunPage>().ProducesProblem(400);
        runs.MapGet("/{runId}", GetAsync)
            .RequireRole(TokenRole.Viewer).WithSummary("A run with its workflows and steps (the status URL of executePipeline)")
            .Produces<RunDetailView>().ProducesProblem(404);
        runs.MapGet("/{runId}/logs", LogsAsync)
            .RequireRole(TokenRole.Viewer).WithSummary("A run's log lines (after: only lines after that sequence number)")
            .Produces<List<LogLineView>>().ProducesProblem(404);
        runs.MapPost("/{runId}/cancel", CancelAsync)
            .RequireRole(TokenRole.Runner).WithSummary("Cancel a queued run, or stop a running one")
            .Produces<CancelView>().Produces<CancelView>(202).ProducesProblem(404).ProducesProblem(409);
        runs.MapPost("/{runId}/rerun", (HttpContext http, string runId, RunExecutor executor) => AgainAsync(http, runId, executor, retry: false))
            .RequireRole(TokenRole.Runner).WithSummary("Run the run's pipeline again with its original parameters and run date")
            .Produces<RunAccepted>(202).ProducesProblem(404);
        runs.MapPost("/{runId}/retry", (HttpContext http, string runId, RunExecutor executor) => AgainAsync(http, runId, executor, retry: true))
            .RequireRole(TokenRole.Runner).WithSummary("Resume a failed or cancelled run from the workflow that did not commit")
            .Produces<RunAccepted>(202).ProducesProblem(404).ProducesProblem(409);

        api.MapPost("/projects/{projectId}/pipelines/{name}/backfill", BackfillAsync)
            .RequireRole(TokenRole.Runner).WithTags("Runs")
            .WithSummary("Queue one run per date (run.date) from 'from' to 'to', skipping dates that already succeeded (or, with 'only', every date whose status is not listed)")
            .Accepts<BackfillBody>(isOptional: true, "application/json", RequestBody.AnyContentType).Produces<BackfillView>(202).ProducesProblem(400).ProducesProblem(404);
    }

    static async Task<IResult> ListAsync(HttpContext http, string? pipeline, string? status, string? runDate, int? offset, int? limit)
    {
        var host = Access.CallerOf(http).Host;
        RunStatus? statusFilter = null;
        if (status is not null)
        {
            if (!Views.TryParseStatus(status, out var parsed))
                return Problems.BadRequest("Bad filter", $"status must be one of {string.Join(", ", Enum.GetValues<RunStatus>().Select(Views.Status))}, got '{status}'");
            statusFilter = parsed;
        }
        DateOnly? dateFilter = null;
        if (runDate is not null)
        {
            if (!DateOnly.TryParseExact(runDate, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                return Problems.BadRequest("Bad filter", $"runDate must be a date yyyy-MM-dd, got '{runDate}'");
            dateFilter = date;
        }
        var page = new Page(Math.Max(0, offset ?? 0), Math.Clamp(limit ?? 50, 1, MaxLimit));
        var found = await host.Store.FindRunsAsync(new RunFilter(host.Id, pipeline, statusFilter, dateFilter), page, http.RequestAborted);
        return TypedResults.Ok(new RunPage(await Views.RunsAsync(host.Store, found, http.RequestAborted), page.Offset, page.Limit, found.Count == page.Limit ? page.Offset + page.Limit : null));
    }

    static async Task<IResult> GetAsync(HttpContext http, string runId)
    {
        var host = Access.CallerOf(http).Host;
        if (await FindAsync(host, runId, http.RequestAborted) is not { } run) return NoRun(host, runId);
        var request = await host.Store.GetRunRequestAsync(runId, http.RequestAborted);
        var workflows = await host.Store.GetWorkflowRunsAsync(runId, http.RequestAborted);
        var steps = await host.Store.GetStepRunsAsync(runId, http.RequestAborted);
        var stale = await host.Store.GetOpenStaleMarksAsync([runId], http.RequestAborted);
        var retrain = await host.Store.GetRetrainDecisionAsync(runId, http.RequestAborted);
        return TypedResults.Ok(new RunDetailView(Views.Run(run, stale.GetValueOrDefault(runId)), request?.Attempt, request?.RequestedBy,
            workflows.Select(w => new WorkflowRunView(w.Workflow, w.Position, Views.Status(w.Status), w.StartedAt, w.EndedAt, w.CommittedAt)).ToList(),
            steps.Select(Views.Step).ToList(), retrain is null ? null : new RetrainView(retrain.Asked, retrain.Reason, retrain.TriggeredRunId)));
    }

    static async Task<IResult> LogsAsync(HttpContext http, string runId, long? after)
    {
        var host = Access.CallerOf(http).Host;
        if (await FindAsync(host, runId, http.RequestAborted) is null) return NoRun(host, runId);
        var lines = await host.Store.GetLogsAsync(runId, http.RequestAborted);
        return TypedResults.Ok(lines.Where(l => l.Sequence > (after ?? 0)).Select(l => new LogLineView(l.Sequence, l.At, l.Level, l.Workflow, l.StepId, l.Message)).ToList());
    }

    static async Task<IResult> CancelAsync(HttpContext http, string runId, RunExecutor executor)
    {
        var caller = Access.CallerOf(http);
        var host = caller.Host;
        if (await FindAsync(host, runId, http.RequestAborted) is not { } run) return NoRun(host, runId);
        Access.Audit(http, $"run {runId}");
        return await executor.CancelAsync(host, runId, caller.Actor, http.RequestAborted) switch
        {
            CancelOutcome.CancelledQueued => TypedResults.Ok(new CancelView(runId, "cancelled")),
            CancelOutcome.Stopping => TypedResults.Accepted(Views.RunUrl(host.Id, runId), new CancelView(runId, "stopping")),
            _ => Problems.Conflict($"run {runId} is {Views.Lower(run.Status)}; only queued or running runs can be cancelled"),
        };
    }

    static async Task<IResult> AgainAsync(HttpContext http, string runId, RunExecutor executor, bool retry)
    {
        var host = Access.CallerOf(http).Host;
        if (await FindAsync(host, runId, http.RequestAborted) is null) return NoRun(host, runId);
        RunRequest request;
        try
        {
            request = retry ? await host.Runner.RetryRequestAsync(runId, http.RequestAborted) : await host.Runner.RerunRequestAsync(runId, http.RequestAborted);
        }
        catch (RunRequestException e)
        {
            return Problems.Conflict(e.Message);
        }
        return await SparkflowsEndpoints.SubmitAsync(http, executor, host, request, null, "parameters of the original run");
    }

    static async Task<IResult> BackfillAsync(HttpContext http, string name, RunExecutor executor)
    {
        var host = Access.CallerOf(http).Host;
        if (!host.Definition.Pipelines.ContainsKey(name)) return ProjectEndpoints.NoPipeline(host, name);
        var (body, problem) = await RequestBody.ReadAsync(http.Request, """{"from": "2026-01-01", "to": "2026-01-31"}""");
        if (problem is not null) return problem;
        var fromText = body!.String("from", out problem);
        if (problem is not null) return problem;
        var toText = body.String("to", out problem);
        if (problem is not null) return problem;
        var parameters = body.Map("parameters", out problem);
        if (problem is not null) return problem;
        var rerunSucceeded = body.Bool("rerunSucceeded", out problem);
        if (problem is not null) return problem;
        var onlyText = body.String("only", out problem);
        if (problem is not null) return problem;
        IReadOnlySet<DateStatus>? only = null;
        if (onlyText is not null)
        {
            try { only = DateStatusNames.ParseList(onlyText, DateStatusNames.Backfillable); }
            catch (FormatException e) { return Problems.BadRequest("Bad backfill", $"'only': {e.Message}"); }
            if (rerunSucceeded) return Problems.BadRequest("Bad backfill", "'only' and 'rerunSucceeded' do not combine; add succeeded to 'only' instead");
        }
        if (!TryDate(fromText, out var from) || !TryDate(toText, out var to))
            return Problems.BadRequest("Bad backfill", "'from' and 'to' are required dates yyyy-MM-dd");
        if (to < from) return Problems.BadRequest("Bad backfill", "'to' is before 'from'");
        if (to.DayNumber - from.DayNumber >= RunCoordinator.MaxBackfillDates) return Problems.BadRequest("Bad backfill", $"a backfill covers at most {RunCoordinator.MaxBackfillDates} dates");
        if (parameters.Any(p => p.Key == BuiltInParameters.RunDate)) return Problems.BadRequest("Bad backfill", "backfill sets run.date itself; leave it out of 'parameters'");
        Access.Audit(http, $"pipeline {name}", new { from = fromText, to = toText, rerunSucceeded, only = onlyText });

        // Planned as the CLI plans it; each date is queued and waits for the pipeline's max_active like any request.
        var plan = await executor.For(host).PlanBackfillAsync(name, from, to, parameters, rerunSucceeded, http.RequestAborted, only);
        var accepted = new List<RunAccepted>();
        var skipped = plan.Succeeded.Concat(plan.LeftOut).Order().Select(d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).ToList();
        foreach (var date in plan.Dates)
        {
            SubmitResult result;
            try
            {
                result = await executor.SubmitAsync(host, plan.RequestFor(date), new RunRequestInfo(RequestedBy: Access.CallerOf(http).Actor), applyOverlapPolicy: false, http.RequestAborted);
            }
            catch (RunRequestException e)
            {
                return Problems.BadRequest("Bad parameters", $"parameters: {e.Message}" + (accepted.Count > 0 ? $" ({accepted.Count} date(s) before {date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)} were queued)" : ""));
            }
            accepted.Add(SparkflowsEndpoints.Accepted(http, result));
        }
        return TypedResults.Accepted((string?)null, new BackfillView(accepted, skipped));
    }

    static bool TryDate(string? text, out DateOnly date) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);

    static async Task<Run?> FindAsync(ProjectHost host, string runId, CancellationToken ct) =>
        await host.Store.GetRunAsync(runId, ct) is { } run && run.ProjectId == host.Id ? run : null;

    static IResult NoRun(ProjectHost host, string runId) => Problems.NotFound($"no run '{runId}' in project '{host.Id}'");
}
