using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Millrace.Engine;
using Millrace.Server.Execution;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Ui;

/// <summary>Runs: the filtered list, and one run with live status, steps, DAGs, outputs, anomalies and logs; cancel, retry, rerun.</summary>
static class RunPages
{
    const int PageSize = 50;
    const int MaxLogLines = 2000;

    /// <summary>Runs newest first, filtered by pipeline (or workflow), status and run date, 50 a page.</summary>
    public static async Task<UiPage> ListAsync(UiRequest request)
    {
        var host = request.Host;
        var pipeline = request.Query("pipeline");
        var statusText = request.Query("status");
        var dateText = request.Query("runDate");
        var offset = int.TryParse(request.Query("offset"), NumberStyles.None, CultureInfo.InvariantCulture, out var o) ? o : 0;
        var problems = new List<string>();
        RunStatus? status = null;
        if (statusText is not null)
        {
            if (Enum.TryParse<RunStatus>(statusText, ignoreCase: true, out var parsed) && !int.TryParse(statusText, out _)) status = parsed;
            else problems.Add($"status '{statusText}' is not one of {string.Join(", ", Enum.GetNames<RunStatus>().Select(n => n.ToLowerInvariant()))}");
        }
        DateOnly? date = null;
        if (dateText is not null)
        {
            if (DateOnly.TryParseExact(dateText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)) date = parsed;
            else problems.Add($"run date '{dateText}' is not a date yyyy-MM-dd");
        }
        var runs = await host.Store.FindRunsAsync(new RunFilter(host.Id, pipeline, status, date), new Page(offset, PageSize), request.Aborted);

        var targets = host.Definition.Pipelines.Keys.Concat(host.Definition.Workflows.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var targetOptions = Html.Join(targets.Select(t => Html.Of($"<option value=\"{t}\"{(t == pipeline ? Html.Of($" selected") : Html.Empty)}>{t}</option>")));
        var statusOptions = Html.Join(Enum.GetNames<RunStatus>().Select(n => n.ToLowerInvariant()).Select(n => Html.Of($"<option value=\"{n}\"{(status?.ToString().ToLowerInvariant() == n ? Html.Of($" selected") : Html.Empty)}>{n}</option>")));
        string PageLink(int at) => UiUrls.Runs(host.Id) + UiUrls.Query(("pipeline", pipeline), ("status", statusText), ("runDate", dateText), ("offset", at == 0 ? null : at.ToString(CultureInfo.InvariantCulture)));
        var pager = Html.Of($"""
            <div class="pager">{(offset > 0 ? Html.Of($"<a href=\"{PageLink(Math.Max(0, offset - PageSize))}\">← newer</a>") : Html.Empty)}{(runs.Count == PageSize ? Html.Of($"<a href=\"{PageLink(offset + PageSize)}\">older →</a>") : Html.Empty)}</div>
            """);
        var body = Html.Of($"""
            <h1>Runs</h1>
            <form method="get" action="{UiUrls.Runs(host.Id)}" class="bar">
              <label>Pipeline or workflow <select name="pipeline"><option value="">all</option>{targetOptions}</select></label>
              <label>Status <select name="status"><option value="">any</option>{statusOptions}</select></label>
              <label>Run date <input type="date" name="runDate" value="{dateText ?? ""}"></label>
              <button type="submit" class="secondary">Filter</button> <a href="{UiUrls.Runs(host.Id)}">clear</a>
            </form>
            {Html.Join(problems.Select(p => Html.Of($"<p class=\"flash error\">{p}</p>")))}
            {Table(host.Id, runs)}
            {pager}
            """);
        return new UiPage("Runs", body, RefreshSeconds: runs.Any(r => r.Status is RunStatus.Queued or RunStatus.Running) ? 5 : null, Section: "runs");
    }

    /// <summary>A table of runs linking to their pages.</summary>
    public static Html Table(string projectId, IReadOnlyList<Run> runs)
    {
        var rows = runs.Select(r => Html.Of($"""
            <tr><td><a href="{UiUrls.Run(projectId, r.Id)}" class="mono">{r.Id}</a></td><td>{r.Target}</td><td>{UiLayout.Badge(r.Status)}</td>
            <td>{r.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}</td><td>{r.Trigger.ToString().ToLowerInvariant()}</td>
            <td>{UiLayout.Time(r.CreatedAt)}</td><td class="num">{UiLayout.Duration(r.Duration)}</td><td>{UiLayout.Truncated(r.Error, 90)}</td></tr>
            """)).ToList();
        return UiLayout.Table(["Run", "Pipeline", "Status", "Run date", "Trigger", "Created (UTC)", "Duration", "Error"], rows, "No runs yet.", "runs");
    }

    public static async Task<UiPage> ShowAsync(UiRequest request, string runId)
    {
        var host = request.Host;
        var ct = request.Aborted;
        var store = host.Store;
        if (await store.GetRunAsync(runId, ct) is not { } run || run.ProjectId != host.Id)
            return PipelinePages.NotFound($"No run '{runId}' in project '{host.Id}'.", host.Id);
        var info = await store.GetRunRequestAsync(runId, ct);
        var workflows = await store.GetWorkflowRunsAsync(runId, ct);
        var steps = await store.GetStepRunsAsync(runId, ct);
        var logs = await store.GetLogsAsync(runId, ct);
        var anomalies = await store.FindAnomaliesAsync(runId, new Page(0, 200), ct);
        var active = run.Status is RunStatus.Queued or RunStatus.Running;
        var notices = await NoticesAsync(request, run);

        var parameters = run.Parameters.Count == 0 ? Html.Of($"<span class=\"muted\">defaults</span>")
            : Html.Join(Html.Of($", "), run.Parameters.Select(p => Html.Of($"<code>{p.Key}={p.Value}</code>")));
        var facts = UiLayout.Facts(
            ("Status", Html.Of($"<span id=\"run-status\">{UiLayout.Badge(run.Status)}</span>{(active ? Html.Of($" <span class=\"muted\">(this page refreshes every 2 s)</span>") : Html.Empty)}")),
            ("Pipeline", host.Definition.Pipelines.ContainsKey(run.Target) ? Html.Of($"<a href=\"{UiUrls.Pipeline(host.Id, run.Target)}\">{run.Target}</a>") : Html.Text($"{run.Target} ({run.TargetKind})")),
            ("Run date", Html.Text(run.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))),
            ("Parameters", parameters),
            ("Trigger", Html.Text(run.Trigger.ToString().ToLowerInvariant() + (info?.RequestedBy is { } by ? $" by {by}" : "") + (info is { Attempt: > 1 } ? $" (attempt {info.Attempt})" : ""))),
            ("Created", UiLayout.Time(run.CreatedAt)),
            ("Started", UiLayout.Time(run.StartedAt)),
            ("Ended", UiLayout.Time(run.EndedAt)),
            ("Duration", Html.Text(UiLayout.Duration(run.Duration))),
            ("Parent run", run.ParentRunId is { } parent ? Html.Of($"<a href=\"{UiUrls.Run(host.Id, parent)}\" class=\"mono\">{parent}</a>") : Html.Of($"<span class=\"muted\">–</span>")),
            ("Run key", Html.Text(run.RunKey ?? "–")),
            ("Definitions", Html.Of($"<code title=\"{run.DefinitionsHash}\">{run.DefinitionsHash[..Math.Min(12, run.DefinitionsHash.Length)]}</code>")));

        var actions = new List<Html>();
        var here = UiUrls.Run(host.Id, run.Id);
        if (active) actions.Add(UiLayout.ActionButton(request, here + "/cancel", "Cancel run", TokenRole.Runner, @class: "danger", name: "cancel"));
        if (run.Status is RunStatus.Failed or RunStatus.Cancelled) actions.Add(UiLayout.ActionButton(request, here + "/retry", "Retry from the failed workflow", TokenRole.Runner, name: "retry"));
        if (!active) actions.Add(UiLayout.ActionButton(request, here + "/rerun", "Run again", TokenRole.Runner, @class: "secondary", name: "rerun"));

        var workflowRows = workflows.OrderBy(w => w.Position).Select(w => Html.Of($"""
            <tr><td>{w.Position + 1}</td><td>{w.Workflow}</td><td>{UiLayout.Badge(w.Status)}</td><td>{UiLayout.Time(w.StartedAt)}</td>
            <td class="num">{UiLayout.Duration(w.StartedAt is { } s && w.EndedAt is { } e ? e - s : null)}</td><td>{(w.CommittedAt is { } c ? UiLayout.Time(c) : Html.Of($"<span class=\"muted\">not committed</span>"))}</td></tr>
            """)).ToList();
        var longest = steps.Select(s => s.Duration?.TotalMilliseconds ?? 0).DefaultIfEmpty(0).Max();
        var stepRows = steps.Select(s => Html.Of($"""
            <tr data-step="{s.StepId}"><td>{s.Workflow}</td><td><b>{s.StepId}</b></td><td>{s.Kind}</td><td>{UiLayout.Badge(s.Status)}</td><td>{UiLayout.Time(s.StartedAt)}</td>
            <td><div class="bar-cell"><span class="bar" style="width:{Width(s.Duration, longest)}px"></span>{UiLayout.Duration(s.Duration)}</div></td>
            <td class="num">{UiLayout.Number(s.Rows)}</td>
            <td>{(s.Error is null ? Html.Empty : Html.Of($"<div class=\"error-text\">{s.Error}</div>"))}{Details(s.DetailsJson)}</td></tr>
            """)).ToList();

        var diagrams = new List<Html>();
        var index = 0;
        IEnumerable<string> drawn = workflows.Count > 0 ? workflows.OrderBy(w => w.Position).Select(w => w.Workflow)
            : host.Definition.Pipelines.TryGetValue(run.Target, out var pipeline) && run.TargetKind == "pipeline" ? pipeline.Workflows
            : [run.Target];
        foreach (var workflowName in drawn)
        {
            index++;
            if (host.Definition.Workflows.TryGetValue(workflowName, out var workflow))
                diagrams.Add(Html.Of($"<h3>{workflowName}</h3>{DagSvg.Render(workflow, steps, $"run{index}")}"));
        }

        var logText = Html.Join(logs.TakeLast(MaxLogLines).Select(l => Html.Of($"<span class=\"{l.Level}\">{l.At.UtcDateTime.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)} {l.Level,-5} {(l.Workflow is null ? "" : l.Workflow + (l.StepId is null ? "" : "." + l.StepId) + " ")}{l.Message}</span>\n")));
        var outputs = await OutputsAsync(request, run, steps);
        var body = Html.Of($"""
            <h1>Run <span class="mono">{run.Id}</span></h1>
            <div class="card">{facts}</div>
            {notices}
            {(run.Error is null ? Html.Empty : Html.Of($"<div class=\"flash error\"><b>Error:</b> <span class=\"error-text\">{run.Error}</span></div>"))}
            <div class="actions">{Html.Join(actions)}</div>
            {(actions.Count > 0 ? UiLayout.RoleNote(request, TokenRole.Runner, "Cancelling, retrying and rerunning") : Html.Empty)}
            <h2>Workflows</h2>
            {UiLayout.Table(["#", "Workflow", "Status", "Started", "Duration", "Committed"], workflowRows, active ? "Waiting to start." : "No workflow ran.")}
            {Html.Join(diagrams)}
            <h2>Steps</h2>
            {UiLayout.Table(["Workflow", "Step", "Kind", "Status", "Started", "Time", "Rows", "Error and details"], stepRows, active ? "No step has started yet." : "No step ran.", "steps")}
            <h2>Outputs</h2>
            {outputs}
            <h2>Anomalies ({anomalies.Count})</h2>
            {AnomalyPages.Table(host.Id, anomalies, showRun: false)}
            <h2>Log ({logs.Count} lines{(logs.Count > MaxLogLines ? $", the last {MaxLogLines} shown" : "")})</h2>
            {(logs.Count == 0 ? Html.Of($"<p class=\"empty\">No log lines.</p>") : Html.Of($"<pre class=\"log\">{logText}</pre>"))}
            """);
        return new UiPage($"Run {run.Id}", body, RefreshSeconds: active ? 2 : null, Section: "runs");
    }

    /// <summary>What the run committed: dataset versions, model versions and published reports.</summary>
    /// <summary>What the run's outputs are now: stale (and why), replaced by a later run, or reused because its workflows were up to date.</summary>
    static async Task<Html> NoticesAsync(UiRequest request, Run run)
    {
        var store = request.Host.Store;
        var notices = new List<Html>();
        foreach (var mark in (await store.ListStaleAsync(run.ProjectId, run.Target, run.RunDate, run.RunDate, request.Aborted)).Where(m => m.RunId == run.Id))
            notices.Add(mark.Open
                ? Html.Of($"<div class=\"flash warning\" id=\"run-stale\"><b>Stale:</b> this run's outputs are stale since {UiLayout.Time(mark.MarkedAt)}: {mark.Reason}. A successful run of {run.Target} for {run.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)} replaces them.</div>")
                : Html.Of($"<div class=\"flash\">Was stale ({mark.Reason}) until run <a href=\"{UiUrls.Run(run.ProjectId, mark.ClearedByRunId ?? "")}\" class=\"mono\">{mark.ClearedByRunId}</a> replaced its outputs.</div>"));
        foreach (var memo in (await store.GetFingerprintsAsync(run.Id, request.Aborted)).Where(f => f.SameAsRunId is not null))
            notices.Add(Html.Of($"<div class=\"flash\" data-up-to-date=\"{memo.Workflow}\">Workflow <b>{memo.Workflow}</b> was up to date: same inputs as run <a href=\"{UiUrls.Run(run.ProjectId, memo.SameAsRunId!)}\" class=\"mono\">{memo.SameAsRunId}</a>; it was not run again.</div>"));
        return Html.Join(notices);
    }

    static async Task<Html> OutputsAsync(UiRequest request, Run run, IReadOnlyList<StepRun> steps)
    {
        var host = request.Host;
        var ct = request.Aborted;
        var items = new List<Html>();
        var committed = (await host.Store.GetWorkflowRunsAsync(run.Id, ct)).Where(w => w.CommittedAt is not null).Select(w => w.Workflow).ToHashSet(StringComparer.Ordinal);
        if (committed.Count == 0) return Html.Of($"<p class=\"empty\">Nothing committed{(run.Status is RunStatus.Queued or RunStatus.Running ? " yet" : "")}.</p>");
        foreach (var dataset in await host.Store.ListDatasetsAsync(ct))
            foreach (var version in (await host.Store.ListDatasetVersionsAsync(dataset.Dataset, ct)).Where(v => v.RunId == run.Id))
                items.Add(Html.Of($"<li>dataset <a href=\"{UiUrls.Dataset(host.Id, version.Dataset, version.Version)}\">{version.Dataset}@v{version.Version}</a> ({version.Operation}, {UiLayout.Number(version.Rows)} rows) by step {version.Workflow}.{version.StepId}</li>"));
        foreach (var model in await host.Store.ListModelsAsync(ct))
            foreach (var version in (await host.Store.ListModelVersionsAsync(model, ct)).Where(v => v.RunId == run.Id))
                items.Add(Html.Of($"<li>model <a href=\"{UiUrls.Model(host.Id, model)}\">{model}@v{version.Version}</a> ({version.Algorithm})</li>"));
        foreach (var step in steps.Where(s => s.Status == RunStatus.Succeeded && committed.Contains(s.Workflow)))
        {
            if (Property(step.DetailsJson, "report") is not { } report || Property(step.DetailsJson, "path") is not { } path) continue;
            var date = path.Split('/') is [.., var d, _] ? d : run.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            items.Add(Html.Of($"<li>report <a href=\"{UiUrls.ReportRun(host.Id, report, date)}\">{Property(step.DetailsJson, "title") ?? report}</a> <span class=\"muted\">({path})</span></li>"));
        }
        return items.Count == 0 ? Html.Of($"<p class=\"empty\">Nothing committed{(run.Status is RunStatus.Queued or RunStatus.Running ? " yet" : "")}.</p>") : Html.Of($"<ul>{Html.Join(items)}</ul>");
    }

    public static async Task<UiOutcome> CancelAsync(UiRequest request, string runId)
    {
        var host = request.Host;
        Access.Audit(request.Http, $"run {runId}", new { via = "web UI" });
        var back = UiUrls.Run(host.Id, runId);
        if (await host.Store.GetRunAsync(runId, request.Aborted) is not { } run || run.ProjectId != host.Id)
            return UiOutcome.Failed(UiUrls.Runs(host.Id), $"No run '{runId}'.", StatusCodes.Status404NotFound);
        return await request.Service<RunExecutor>().CancelAsync(host, runId, request.Actor, request.Aborted) switch
        {
            CancelOutcome.CancelledQueued => new UiOutcome(back, $"Run {runId} was cancelled before it started."),
            CancelOutcome.Stopping => new UiOutcome(back, $"Run {runId} is stopping.", AuditStatus: StatusCodes.Status202Accepted),
            _ => UiOutcome.Failed(back, $"Run {runId} is {run.Status.ToString().ToLowerInvariant()}; only queued or running runs can be cancelled.", StatusCodes.Status409Conflict),
        };
    }

    /// <summary>Retry (from the workflow that did not commit) or rerun (everything, same parameters and date).</summary>
    public static async Task<UiOutcome> AgainAsync(UiRequest request, string runId, bool retry)
    {
        var host = request.Host;
        Access.Audit(request.Http, $"run {runId}", new { via = "web UI" });
        var back = UiUrls.Run(host.Id, runId);
        if (await host.Store.GetRunAsync(runId, request.Aborted) is not { } run || run.ProjectId != host.Id)
            return UiOutcome.Failed(UiUrls.Runs(host.Id), $"No run '{runId}'.", StatusCodes.Status404NotFound);
        RunRequest again;
        try
        {
            again = retry ? await host.Runner.RetryRequestAsync(runId, request.Aborted) : await host.Runner.RerunRequestAsync(runId, request.Aborted);
        }
        catch (RunRequestException e)
        {
            return UiOutcome.Failed(back, e.Message, StatusCodes.Status409Conflict);
        }
        return await PipelinePages.SubmitAsync(request, again, back);
    }

    static int Width(TimeSpan? duration, double longest) =>
        duration is { } d && longest > 0 ? Math.Max(2, (int)Math.Round(d.TotalMilliseconds / longest * 120)) : 0;

    static Html Details(string? json)
    {
        if (json is null) return Html.Empty;
        string pretty;
        try
        {
            using var document = JsonDocument.Parse(json);
            pretty = JsonSerializer.Serialize(document.RootElement, Indented);
        }
        catch (JsonException)
        {
            pretty = json;
        }
        return Html.Of($"<details><summary>details</summary><pre>{pretty}</pre></details>");
    }

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    static string? Property(string? json, string name)
    {
        if (json is null) return null;
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
