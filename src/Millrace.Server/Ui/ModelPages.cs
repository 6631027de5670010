using System.Globalization;
using Microsoft.AspNetCore.Http;
using Millrace.Learning;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Ui;

/// <summary>Models: versions with metrics, aliases, the champion's history and feature importance; promote and roll back (admin).</summary>
static class ModelPages
{
    public static async Task<UiPage> ListAsync(UiRequest request)
    {
        var host = request.Host;
        var ct = request.Aborted;
        var rows = new List<Html>();
        foreach (var name in (await host.Store.ListModelsAsync(ct)).Order(StringComparer.Ordinal))
        {
            var versions = await host.Store.ListModelVersionsAsync(name, ct);
            var aliases = await host.Store.GetAliasesAsync(name, ct);
            var champion = aliases.TryGetValue(ModelRegistry.Champion, out var c) ? versions.FirstOrDefault(v => v.Version == c) : null;
            var latest = versions.MaxBy(v => v.Version);
            rows.Add(Html.Of($"""
                <tr><td><a href="{UiUrls.Model(host.Id, name)}">{name}</a></td><td>{(champion is null ? Html.Of($"<span class=\"muted\">none</span>") : Html.Of($"v{champion.Version}"))}</td>
                <td>{AliasList(aliases.Where(a => a.Key != ModelRegistry.Champion))}</td><td class="num">{versions.Count}</td>
                <td>{(latest is null ? Html.Empty : Html.Of($"v{latest.Version}, {UiLayout.Time(latest.CreatedAt)}"))}</td>
                <td>{(champion is null ? Html.Empty : Metrics(champion))}</td></tr>
                """));
        }
        var body = Html.Of($"""
            <h1>Models</h1>
            {UiLayout.Table(["Model", "Champion", "Other aliases", "Versions", "Latest version", "Champion metrics (holdout)"], rows, "No model registered yet: a train step registers one when its run commits.")}
            """);
        return new UiPage("Models", body, Section: "models");
    }

    public static async Task<UiPage> ShowAsync(UiRequest request, string name)
    {
        var host = request.Host;
        var ct = request.Aborted;
        var versions = (await host.Store.ListModelVersionsAsync(name, ct)).OrderByDescending(v => v.Version).ToList();
        if (versions.Count == 0) return PipelinePages.NotFound($"No model '{name}' in project '{host.Id}'.", host.Id);
        var aliases = await host.Store.GetAliasesAsync(name, ct);
        var history = await host.Store.GetAliasHistoryAsync(name, ct);
        var aliasesOf = aliases.GroupBy(a => a.Value).ToDictionary(g => g.Key, g => g.Select(a => a.Key).Order(StringComparer.Ordinal).ToList());
        // The task's headline metrics (counts such as tp/fn stay in the run's details).
        var metricNames = ModelBuilder.MetricNames(versions[0].Task).Where(m => versions.Any(v => v.Metrics.ContainsKey(m))).ToList();
        if (metricNames.Count == 0) metricNames = versions.SelectMany(v => v.Metrics.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var url = UiUrls.Model(host.Id, name);
        var championVersion = aliases.TryGetValue(ModelRegistry.Champion, out var cv) ? cv : (int?)null;

        var versionRows = versions.Select(v =>
        {
            var isChampion = v.Version == championVersion;
            var promote = isChampion ? Html.Empty : UiLayout.ActionButton(request, url + "/promote", "Promote", TokenRole.Admin,
                Html.Of($"<input type=\"hidden\" name=\"version\" value=\"{v.Version}\"><input type=\"hidden\" name=\"alias\" value=\"champion\">"), @class: "secondary", name: "promote");
            var metrics = Html.Join(metricNames.Select(m => Html.Of($"<td class=\"num\">{(v.Metrics.TryGetValue(m, out var value) ? ModelBuilder.Format(value) : "–")}</td>")));
            return Html.Of($"""
                <tr data-version="{v.Version}"><td title="{v.Algorithm}, trained on {string.Join(", ", v.Datasets)}"><b>v{v.Version}</b></td><td class="aliases">{Html.Join(Html.Of($" "), (aliasesOf.GetValueOrDefault(v.Version) ?? []).Select(a => UiLayout.Badge(a)))}</td>
                {metrics}<td class="num">{UiLayout.Number(v.TrainRows)} / {UiLayout.Number(v.HoldoutRows)}</td><td>{UiLayout.Time(v.CreatedAt)}</td>
                <td><a href="{UiUrls.Run(host.Id, v.RunId)}" class="mono" title="run {v.RunId}">…{v.RunId[(v.RunId.LastIndexOf('-') + 1)..]}</a></td><td>{promote}</td></tr>
                """);
        }).ToList();
        string[] headers = ["Version", "Aliases", .. metricNames, "Train / holdout", "Created", "Run", "Champion"];

        var historyRows = history.Select(h => Html.Of($"""
            <tr><td>{UiLayout.Time(h.At)}</td><td>{UiLayout.Badge(h.Alias)}</td><td>{(h.PreviousVersion is { } p ? $"v{p}" : "–")} → {(h.Version is { } to ? $"v{to}" : "removed")}</td>
            <td>{UiLayout.Truncated(h.Actor, 60)}</td><td>{h.Reason}</td><td>{(h.RunId is { } run ? Html.Of($"<a href=\"{UiUrls.Run(host.Id, run)}\" class=\"mono\">{run}</a>") : Html.Of($"<span class=\"muted\">by hand</span>"))}</td></tr>
            """)).ToList();

        var champion = versions.FirstOrDefault(v => v.Version == championVersion);
        var importance = champion is null || champion.Importance.Count == 0 ? Html.Empty : Importance(champion);
        var versionOptions = Html.Join(versions.Select(v => Html.Of($"<option value=\"{v.Version}\">v{v.Version}</option>")));
        var manage = request.Role >= TokenRole.Admin
            ? Html.Of($"""
                <form method="post" action="{url}/promote" class="bar">
                  {request.CsrfField}
                  <label>Version <select name="version">{versionOptions}</select></label>
                  <label>Alias <select name="alias"><option value="champion">champion</option><option value="challenger">challenger</option></select></label>
                  <label>Reason <input type="text" name="reason" placeholder="why, for the record"></label>
                  <button type="submit" name="promote-alias">Point the alias</button>
                </form>
                """)
            : Html.Empty;
        var performance = await ModelPerformanceSection.RenderAsync(request, name);
        var body = Html.Of($"""
            <h1>Model {name}</h1>
            <div class="card">{UiLayout.Facts(
                ("Task", Html.Text(versions[0].Task.ToString().ToLowerInvariant())),
                ("Label", Html.Of($"<code>{versions[0].Label}</code>")),
                ("Algorithm", Html.Text(string.Join(", ", versions.Select(x => x.Algorithm).Distinct(StringComparer.Ordinal)))),
                ("Aliases", aliases.Count == 0 ? Html.Of($"<span class=\"muted\">none</span>") : AliasList(aliases)),
                ("Versions", Html.Text(versions.Count.ToString(CultureInfo.InvariantCulture))))}</div>
            <div class="actions">{UiLayout.ActionButton(request, url + "/rollback", "Roll back the champion", TokenRole.Admin, @class: "danger", name: "rollback")}</div>
            {UiLayout.RoleNote(request, TokenRole.Admin, "Promoting and rolling back")}
            {manage}
            <h2>Versions</h2>
            {UiLayout.Table(headers, versionRows, "No versions.", "versions")}
            <p class="muted">Metrics are measured on each version's own holdout; the promotion gate compares a new version with the champion on the same holdout.</p>
            <h2>Champion history <span class="muted">(and the other aliases)</span></h2>
            {UiLayout.Table(["When (UTC)", "Alias", "Change", "By", "Reason", "Run"], historyRows, "No alias was ever set.", "history")}
            {(champion is null ? Html.Empty : Html.Of($"<h2>Feature importance of the champion (v{champion.Version})</h2>{importance}"))}
            {performance}
            """);
        return new UiPage($"Model {name}", body, Section: "models");
    }

    public static async Task<UiOutcome> PromoteAsync(UiRequest request, string name, IFormCollection form)
    {
        var host = request.Host;
        var back = UiUrls.Model(host.Id, name);
        var alias = form["alias"].ToString() is { Length: > 0 } a ? a : ModelRegistry.Champion;
        var reason = form["reason"].ToString() is { Length: > 0 } r ? r : "promoted in the web UI";
        var versionText = form["version"].ToString();
        Access.Audit(request.Http, $"model {name}@{alias}", new { version = versionText, alias, reason, via = "web UI" });
        if (!int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version < 1)
            return UiOutcome.Failed(back, $"'{versionText}' is not a version number.", StatusCodes.Status400BadRequest);
        if (alias.Length > 64 || !alias.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            return UiOutcome.Failed(back, $"'{alias}' is not an alias name (letters, digits, '_' and '-').", StatusCodes.Status400BadRequest);
        try
        {
            var previous = await Registry(host).PromoteAsync(name, version, alias, request.Actor, reason, request.Aborted);
            return new UiOutcome(back, $"{name}@{alias}: {(previous is { } p ? $"v{p}" : "none")} → v{version}.");
        }
        catch (InvalidOperationException e)
        {
            return UiOutcome.Failed(back, e.Message, StatusCodes.Status404NotFound);
        }
        catch (CommitConflictException e)
        {
            return UiOutcome.Failed(back, $"{e.Message}; reload and try again.", StatusCodes.Status409Conflict);
        }
    }

    public static async Task<UiOutcome> RollbackAsync(UiRequest request, string name)
    {
        var host = request.Host;
        var back = UiUrls.Model(host.Id, name);
        Access.Audit(request.Http, $"model {name}@champion", new { via = "web UI" });
        try
        {
            var (from, to) = await Registry(host).RollbackAsync(name, request.Actor, request.Aborted);
            return new UiOutcome(back, $"{name}@champion rolled back: v{from} → v{to}.");
        }
        catch (InvalidOperationException e)
        {
            return UiOutcome.Failed(back, e.Message, StatusCodes.Status409Conflict);
        }
        catch (CommitConflictException e)
        {
            return UiOutcome.Failed(back, $"{e.Message}; reload and try again.", StatusCodes.Status409Conflict);
        }
    }

    static ModelRegistry Registry(Hosting.ProjectHost host) => new(host.Store, host.OpenLake());

    static Html AliasList(IEnumerable<KeyValuePair<string, int>> aliases) =>
        Html.Join(Html.Of($" "), aliases.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => Html.Of($"{UiLayout.Badge(a.Key)} v{a.Value}")));

    static Html Metrics(ModelVersion version) =>
        Html.Text(string.Join(", ", ModelBuilder.MetricNames(version.Task).Where(version.Metrics.ContainsKey).Select(m => $"{m} {ModelBuilder.Format(version.Metrics[m])}")));

    static Html Importance(ModelVersion version)
    {
        var top = version.Importance.Take(15).ToList();
        var max = top.Max(i => Math.Abs(i.Value));
        var rows = top.Select(i => Html.Of($"""
            <tr><td>{i.Key}</td><td><div class="bar-cell"><span class="bar" style="width:{(max > 0 ? Math.Max(2, (int)Math.Round(Math.Abs(i.Value) / max * 240)) : 0)}px"></span>{UiLayout.Metric(i.Value)}</div></td></tr>
            """)).ToList();
        return UiLayout.Table(["Feature", "Importance"], rows, "No importance recorded.");
    }
}
