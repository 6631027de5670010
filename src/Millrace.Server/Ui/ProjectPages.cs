using Millrace.Server.Hosting;
using Millrace.Server.Scheduling;
using Millrace.Storage;

namespace Millrace.Server.Ui;

/// <summary>The projects page and a project's overview.</summary>
static class ProjectPages
{
    /// <summary>The projects the token can see: its own (as the API's GET /projects), and how many others the server hosts.</summary>
    public static Task<UiPage> ListAsync(UiRequest request)
    {
        var host = request.Host;
        var others = request.Service<ProjectRegistry>().All.Count - 1;
        var d = host.Definition;
        var body = Html.Of($"""
            <h1>Projects</h1>
            <div class="cards">
              <div class="card">
                <h2><a href="{UiUrls.Project(d.Id)}/">{d.Name}</a></h2>
                <p class="muted">{d.Description ?? ""}</p>
                {UiLayout.Facts(("Id", Html.Of($"<code>{d.Id}</code>")), ("Pipelines", Html.Text(d.Pipelines.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))),
                    ("Workflows", Html.Text(d.Workflows.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))), ("Lake", Html.Of($"<code>{d.Lake}</code>")))}
              </div>
            </div>
            {(others > 0 ? Html.Of($"<p class=\"note\">This server hosts {others} other project(s); a token opens only its own project, so sign in with one of theirs to see them.</p>") : Html.Empty)}
            """);
        return Task.FromResult(new UiPage("Projects", body));
    }

    /// <summary>A project at a glance: pipelines, the latest runs, schedules, models, datasets and recent anomalies.</summary>
    public static async Task<UiPage> OverviewAsync(UiRequest request)
    {
        var host = request.Host;
        var d = host.Definition;
        var store = host.Store;
        var ct = request.Aborted;
        var runs = await store.FindRunsAsync(new RunFilter(host.Id), new Page(0, 8), ct);
        var schedules = await request.Service<PipelineScheduler>().ListAsync(host, ct);
        var models = await store.ListModelsAsync(ct);
        var datasets = await store.ListDatasetsAsync(ct);
        var anomalies = await store.FindAnomaliesAsync(null, new Page(0, 5), ct);
        var reports = ReportPages.Folders(host).Count;
        var active = runs.Any(r => r.Status is RunStatus.Queued or RunStatus.Running);

        var pipelines = d.Pipelines.Values.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => Html.Of($"""
            <tr><td><a href="{UiUrls.Pipeline(d.Id, p.Name)}">{p.Name}</a></td><td>{string.Join(" → ", p.Workflows)}</td><td>{(p.Schedule is { } s ? Html.Of($"<code>{s.Cron}</code> {s.Timezone}") : Html.Of($"<span class=\"muted\">on demand</span>"))}</td></tr>
            """)).ToList();
        var body = Html.Of($"""
            <h1>{d.Name}</h1>
            {(d.Description is null ? Html.Empty : Html.Of($"<p>{d.Description}</p>"))}
            <div class="cards">
              <div class="card">{UiLayout.Facts(("Project id", Html.Of($"<code>{d.Id}</code>")), ("Lake", Html.Of($"<code>{d.Lake}</code>")), ("Definitions", Html.Of($"<code title=\"{d.DefinitionsHash}\">{d.DefinitionsHash[..Math.Min(12, d.DefinitionsHash.Length)]}</code>")))}</div>
              <div class="card">{UiLayout.Facts(
                  ("Schedules", Html.Of($"<a href=\"{UiUrls.Schedules(d.Id)}\">{schedules.Count} ({schedules.Count(s => s.Paused)} paused)</a>")),
                  ("Models", Html.Of($"<a href=\"{UiUrls.Models(d.Id)}\">{models.Count}</a>")),
                  ("Datasets", Html.Of($"<a href=\"{UiUrls.Datasets(d.Id)}\">{datasets.Count}</a>")),
                  ("Reports", Html.Of($"<a href=\"{UiUrls.Reports(d.Id)}\">{reports}</a>")))}</div>
            </div>
            <h2>Pipelines</h2>
            {UiLayout.Table(["Pipeline", "Workflows", "Schedule"], pipelines, "No pipelines: add one under pipelines/.")}
            <h2>Latest runs <a class="more" href="{UiUrls.Runs(d.Id)}">all runs</a></h2>
            {RunPages.Table(d.Id, runs)}
            <h2>Recent anomalies <a class="more" href="{UiUrls.Anomalies(d.Id)}">all anomalies</a></h2>
            {AnomalyPages.Table(d.Id, anomalies)}
            """);
        return new UiPage(d.Name, body, RefreshSeconds: active ? 5 : null);
    }
}
