using System.Globalization;
using Microsoft.AspNetCore.Http;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Engine.Dates;
using Millrace.Parameters;
using Millrace.Server.Execution;
using Millrace.Server.Scheduling;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Ui;

/// <summary>Pipelines: the list, and one pipeline with its workflows' DAGs, parameters, schedule, recent runs and a run form.</summary>
static class PipelinePages
{
    public static async Task<UiPage> ListAsync(UiRequest request)
    {
        var host = request.Host;
        var schedules = (await request.Service<PipelineScheduler>().ListAsync(host, request.Aborted)).ToDictionary(s => s.Pipeline, StringComparer.Ordinal);
        var rows = new List<Html>();
        foreach (var pipeline in host.Definition.Pipelines.Values.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            var last = await host.Store.FindRunsAsync(new RunFilter(host.Id, pipeline.Name), new Page(0, 1), request.Aborted) is [var latest, ..] ? latest : null;
            rows.Add(Html.Of($"""
                <tr><td><a href="{UiUrls.Pipeline(host.Id, pipeline.Name)}">{pipeline.Name}</a></td><td>{pipeline.Description ?? ""}</td>
                <td>{string.Join(" → ", pipeline.Workflows)}</td><td>{Schedule(pipeline, schedules.GetValueOrDefault(pipeline.Name))}</td>
                <td>{(last is null ? Html.Of($"<span class=\"muted\">never run</span>") : Html.Of($"<a href=\"{UiUrls.Run(host.Id, last.Id)}\">{UiLayout.Badge(last.Status)}</a> {UiLayout.Time(last.CreatedAt)}"))}</td></tr>
                """));
        }
        var body = Html.Of($"""
            <h1>Pipelines</h1>
            {UiLayout.Table(["Pipeline", "Description", "Workflows", "Schedule", "Last run"], rows, "No pipelines: add one under pipelines/.")}
            """);
        return new UiPage("Pipelines", body, Section: "pipelines");
    }

    public static async Task<UiPage> ShowAsync(UiRequest request, string name)
    {
        var host = request.Host;
        if (!host.Definition.Pipelines.TryGetValue(name, out var pipeline))
            return NotFound($"No pipeline '{name}' in project '{host.Id}'.", host.Id);
        var ct = request.Aborted;
        var schedule = (await request.Service<PipelineScheduler>().ListAsync(host, ct)).FirstOrDefault(s => s.Pipeline == name);
        var runs = await host.Store.FindRunsAsync(new RunFilter(host.Id, name), new Page(0, 10), ct);
        var (from, to) = PipelineDates.DefaultRange(host.Clock);
        var dates = await new PipelineDates(host.Store, host.Id).ListAsync(name, from, to, ct);
        var declared = host.Runner.DeclaredParameters(name).Values.OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => Html.Of($"<tr><td><code>{p.Name}</code></td><td>{p.Type.ToString().ToLowerInvariant()}</td><td>{(p.Default is null ? Html.Of($"<span class=\"badge failed\">required</span>") : Html.Of($"<code>{p.Default}</code>"))}</td><td>{p.Description ?? ""}</td></tr>"))
            .ToList();

        var diagrams = new List<Html>();
        var position = 0;
        foreach (var workflowName in pipeline.Workflows)
        {
            position++;
            if (!host.Definition.Workflows.TryGetValue(workflowName, out var workflow)) continue;
            diagrams.Add(Html.Of($"""
                <h3>{position}. {workflow.Name} <span class="muted">({workflow.Steps.Count} steps, {workflow.Location.File})</span></h3>
                {(workflow.Description is null ? Html.Empty : Html.Of($"<p class=\"muted\">{workflow.Description}</p>"))}
                {DagSvg.Render(workflow, null, $"wf{position}")}
                """));
        }

        var runForm = request.Role >= TokenRole.Runner
            ? Html.Of($"""
                <form method="post" action="{UiUrls.Pipeline(host.Id, name)}/run" class="bar">
                  {request.CsrfField}
                  <label><span>Parameters: <code>--var NAME=VALUE</code>, as executePipeline takes them (empty: the defaults)</span>
                    <input type="text" name="workflowParameters" class="wide" placeholder="{RunExample(host.Runner.DeclaredParameters(name).Values, host.Clock.GetUtcNow())}" spellcheck="false"></label>
                  <button type="submit" name="run">Run {name}</button>
                </form>
                """)
            : UiLayout.RoleNote(request, TokenRole.Runner, "Starting a run");
        var source = ReadSource(host.Directory, pipeline.Location.File);
        var landing = await TriggerPages.SectionAsync(request, pipeline);
        var deadlines = await DeadlineSection.RenderAsync(host, pipeline, ct);
        var body = Html.Of($"""
            <h1>Pipeline {name}</h1>
            {(pipeline.Description is null ? Html.Empty : Html.Of($"<p>{pipeline.Description}</p>"))}
            <div class="card">{UiLayout.Facts(
                ("Workflows", Html.Text(string.Join(" → ", pipeline.Workflows))),
                ("Schedule", Schedule(pipeline, schedule)),
                ("Concurrency", Html.Text($"max_active {pipeline.Concurrency.MaxActive}, on_overlap {pipeline.Concurrency.OnOverlap.ToString().ToLowerInvariant()}")),
                ("Retries", Html.Text(pipeline.Retries.Attempts == 0 ? "none" : $"{pipeline.Retries.Attempts} after {UiLayout.Duration(pipeline.Retries.Backoff)}")),
                ("Timeout", Html.Text(pipeline.Timeout is { } t ? UiLayout.Duration(t) : "none")),
                ("File", Html.Of($"<code>{pipeline.Location.File}</code>")))}</div>
            {landing}
            <h2>Run it</h2>
            {runForm}
            {deadlines}
            <h2>Parameters</h2>
            {UiLayout.Table(["Name", "Type", "Default", "Description"], declared, "No parameters besides the built-ins (run.date, run.id, …).")}
            <h2>Workflows</h2>
            {Html.Join(diagrams)}
            <h2>Dates <span class="muted">(the last {PipelineDates.DefaultDates}, newest first)</span></h2>
            {DatesTable(host.Id, dates)}
            <h2>Recent runs <a class="more" href="{UiUrls.Runs(host.Id)}{UiUrls.Query(("pipeline", name))}">all</a></h2>
            {RunPages.Table(host.Id, runs)}
            <details><summary>Definition ({pipeline.Location.File})</summary><pre>{source}</pre></details>
            """);
        return new UiPage($"Pipeline {name}", body, RefreshSeconds: runs.Any(r => r.Status is RunStatus.Queued or RunStatus.Running) ? 5 : null, Section: "pipelines");
    }

    /// <summary>One row per run date: its status (<see cref="PipelineDates"/>), latest run and details, newest date first.</summary>
    static Html DatesTable(string projectId, IReadOnlyList<PipelineDate> dates)
    {
        var rows = dates.Reverse().Select(d => d.LatestRun is { } run
            ? Html.Of($"""
                <tr><td class="nowrap">{d.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}</td><td>{UiLayout.Badge(DateStatusNames.Name(d.Status).Replace('_', ' '))}</td>
                <td><a class="mono" href="{UiUrls.Run(projectId, run.Id)}">{run.Id}</a></td><td>{run.Trigger.ToString().ToLowerInvariant()}</td><td>{UiLayout.Time(run.StartedAt)}</td>
                <td class="num">{UiLayout.Duration(run.Duration)}</td><td class="num">{d.RunCount}</td><td>{d.Details}</td></tr>
                """)
            : Html.Of($"""
                <tr><td class="nowrap">{d.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}</td><td>{UiLayout.Badge(DateStatusNames.Name(d.Status).Replace('_', ' '))}</td>
                <td colspan="5" class="muted">no run</td><td>{d.Details}</td></tr>
                """)).ToList();
        return UiLayout.Table(["Date", "Status", "Latest run", "Trigger", "Started (UTC)", "Duration", "Runs", "Details"], rows, "No dates.", "dates");
    }

    /// <summary>Queues a run of the pipeline with the form's <c>--var</c> parameters, as executePipeline does.</summary>
    public static async Task<UiOutcome> RunAsync(UiRequest request, string name, IFormCollection form)
    {
        var host = request.Host;
        var back = UiUrls.Pipeline(host.Id, name);
        var text = form["workflowParameters"].ToString();
        Access.Audit(request.Http, $"pipeline {name}", new { workflowParameters = text, via = "web UI" });
        if (!host.Definition.Pipelines.ContainsKey(name)) return UiOutcome.Failed(UiUrls.Pipelines(host.Id), $"No pipeline '{name}'.", StatusCodes.Status404NotFound);
        IReadOnlyList<KeyValuePair<string, string>> variables;
        try
        {
            variables = VarParser.Parse(text);
        }
        catch (VarSyntaxException e)
        {
            return UiOutcome.Failed(back, $"The run was not started: parameters: {e.Message}", StatusCodes.Status400BadRequest);
        }
        return await SubmitAsync(request, new RunRequest(name, variables, TriggerKind.Api), back);
    }

    /// <summary>Records a run request and goes to the run's page (or back, saying why nothing started).</summary>
    internal static async Task<UiOutcome> SubmitAsync(UiRequest request, RunRequest runRequest, string back)
    {
        var host = request.Host;
        SubmitResult result;
        try
        {
            result = await request.Service<RunExecutor>().SubmitAsync(host, runRequest, new RunRequestInfo(RequestedBy: request.Actor), ct: request.Aborted);
        }
        catch (RunRequestException e)
        {
            return UiOutcome.Failed(back, $"The run was not started: {e.Message}", StatusCodes.Status400BadRequest);
        }
        var run = result.Run;
        Access.Audit(request.Http, $"{run.TargetKind} {run.Target}", new { runId = run.Id, status = run.Status.ToString().ToLowerInvariant(), via = "web UI" });
        if (result.Duplicate && runRequest.Trigger == TriggerKind.Retry)
            return new UiOutcome(UiUrls.Run(host.Id, run.Id), $"Run {runRequest.ParentRunId} was already retried as run {run.Id} ({run.Status.ToString().ToLowerInvariant()}); nothing new was started.", AuditStatus: StatusCodes.Status202Accepted);
        return run.Status == RunStatus.Skipped
            ? new UiOutcome(UiUrls.Run(host.Id, run.Id), $"Run {run.Id} was skipped: {run.Error}", Error: true, AuditStatus: StatusCodes.Status202Accepted)
            : new UiOutcome(UiUrls.Run(host.Id, run.Id), $"Run {run.Id} of {run.Target} is queued.", AuditStatus: StatusCodes.Status202Accepted);
    }

    static Html Schedule(PipelineDefinition pipeline, ScheduleInfo? state)
    {
        if (pipeline.Schedule is not { } schedule) return Html.Of($"<span class=\"muted\">on demand only</span>");
        var status = state?.Paused == true ? UiLayout.Badge("paused") : UiLayout.Badge("active");
        var next = state?.NextFireAt is { } at ? Html.Of($", next {UiLayout.Time(at)}") : Html.Empty;
        return Html.Of($"<code>{schedule.Cron}</code> {schedule.Timezone} {status}{next}");
    }

    static string ReadSource(string directory, string relative)
    {
        var path = Path.Combine(directory, relative);
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    internal static UiPage NotFound(string message, string projectId) =>
        new("Not found", Html.Of($"<h1>Not found</h1><p class=\"error-text\">{message}</p><p><a href=\"{UiUrls.Project(projectId)}/\">Back to the project</a></p>"), StatusCode: StatusCodes.Status404NotFound);

    /// <summary>
    /// The Run field's example: the pipeline's own declared parameters (required ones first, with a value of their
    /// type; others with their default), so that the example is one the pipeline accepts; without any, the built-in
    /// <c>run.date</c>.
    /// </summary>
    internal static string RunExample(IEnumerable<ParameterDefinition> declared, DateTimeOffset now)
    {
        var words = declared.OrderBy(p => p.Default is null ? 0 : 1).ThenBy(p => p.Name, StringComparer.Ordinal).Take(3)
            .Select(p => $"--var {p.Name}={p.Default ?? Example(p.Type, now)}").ToList();
        return words.Count > 0 ? string.Join(' ', words) : $"--var run.date={Example(ParameterType.Date, now)}";
    }

    static string Example(ParameterType type, DateTimeOffset now) => type switch
    {
        ParameterType.Int => "1",
        ParameterType.Double => "0.5",
        ParameterType.Bool => "true",
        ParameterType.Date => now.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        ParameterType.Timestamp => now.UtcDateTime.ToString("yyyy-MM-ddT00:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
        _ => "VALUE",
    };
}
