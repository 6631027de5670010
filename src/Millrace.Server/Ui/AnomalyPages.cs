using System.Globalization;
using System.Text.Json;
using Millrace.Storage;

namespace Millrace.Server.Ui;

/// <summary>Anomalies: every finding of every run, newest first (or one run's), 50 a page.</summary>
static class AnomalyPages
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    const int PageSize = 50;

    /// <summary>Kinds offered in the filter (any other word may be typed).</summary>
    static readonly string[] KnownKinds = ["deadline_missed", "freshness_missed", "expectation", "schema_change", "drift", "volume", "outliers", "rewritten_file"];

    public static async Task<UiPage> ListAsync(UiRequest request)
    {
        var host = request.Host;
        var runId = request.Query("runId");
        var kind = request.Query("kind");
        var offset = int.TryParse(request.Query("offset"), NumberStyles.None, CultureInfo.InvariantCulture, out var o) ? o : 0;
        var anomalies = await host.Store.FindAnomaliesAsync(runId, kind, new Page(offset, PageSize), request.Aborted);
        string PageLink(int at) => UiUrls.Anomalies(host.Id) + UiUrls.Query(("runId", runId), ("kind", kind), ("offset", at == 0 ? null : at.ToString(CultureInfo.InvariantCulture)));
        var body = Html.Of($"""
            <h1>Anomalies</h1>
            <form method="get" action="{UiUrls.Anomalies(host.Id)}" class="bar">
              <label>Run <input type="text" name="runId" value="{runId ?? ""}" placeholder="run id" spellcheck="false"></label>
              <label>Kind <input type="text" name="kind" value="{kind ?? ""}" placeholder="e.g. deadline_missed" spellcheck="false" list="anomaly-kinds"></label>
              <datalist id="anomaly-kinds">{Html.Join(KnownKinds.Select(k => Html.Of($"<option value=\"{k}\">")))}</datalist>
              <button type="submit" class="secondary">Filter</button> <a href="{UiUrls.Anomalies(host.Id)}">clear</a>
            </form>
            {Table(host.Id, anomalies)}
            <div class="pager">{(offset > 0 ? Html.Of($"<a href=\"{PageLink(Math.Max(0, offset - PageSize))}\">← newer</a>") : Html.Empty)}{(anomalies.Count == PageSize ? Html.Of($"<a href=\"{PageLink(offset + PageSize)}\">older →</a>") : Html.Empty)}</div>
            <p class="muted">Findings are recorded by steps as they run (schema changes, failed expectations, drift, volume, outliers); the policy says what was done: warn, quarantine or fail. Missed deadlines and feeds (deadline_missed, freshness_missed) are recorded by the server, with no run, policy alert.</p>
            """);
        return new UiPage("Anomalies", body, Section: "anomalies");
    }

    /// <summary>A table of anomalies, with the run each came from unless <paramref name="showRun"/> is false.</summary>
    public static Html Table(string projectId, IReadOnlyList<Anomaly> anomalies, bool showRun = true)
    {
        var rows = anomalies.Select(a => Html.Of($"""
            <tr><td>{UiLayout.Time(a.CreatedAt)}</td><td>{UiLayout.Badge(a.Severity.ToString().ToLowerInvariant())}</td><td>{a.Kind}</td><td>{a.Policy}</td>
            <td>{a.Message}{Details(a.DetailsJson)}</td><td>{(a.Workflow is null ? "" : a.Workflow + (a.StepId is null ? "" : "." + a.StepId))}</td>
            {(!showRun ? Html.Empty : a.RunId.Length == 0 ? Html.Of($"<td class=\"muted\">–</td>") : Html.Of($"<td><a href=\"{UiUrls.Run(projectId, a.RunId)}\" class=\"mono\">{a.RunId}</a></td>"))}</tr>
            """)).ToList();
        string[] headers = showRun ? ["When (UTC)", "Severity", "Kind", "Policy", "Finding", "Step", "Run"] : ["When (UTC)", "Severity", "Kind", "Policy", "Finding", "Step"];
        return UiLayout.Table(headers, rows, "No anomalies.", "anomalies");
    }

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
}
