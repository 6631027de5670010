using System.Globalization;
using Microsoft.AspNetCore.Http;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Ui;

/// <summary>A rendered page: its title, the content of &lt;main&gt;, and when to reload it (live pages).</summary>
/// <param name="Title">The page title (also the heading the layout does not add: pages write their own).</param>
/// <param name="Body">The page's content.</param>
/// <param name="RefreshSeconds">Reload the page after this many seconds (a run still going); null: never.</param>
/// <param name="StatusCode">The HTTP status.</param>
/// <param name="Section">The navigation entry to highlight.</param>
sealed record UiPage(string Title, Html Body, int? RefreshSeconds = null, int StatusCode = StatusCodes.Status200OK, string? Section = null);

/// <summary>The page shell (navigation, flash message, the one stylesheet) and small pieces every page uses.</summary>
static class UiLayout
{
    /// <summary>Sections of the navigation bar: path under the project and label.</summary>
    static readonly (string Path, string Label)[] Sections =
    [
        ("pipelines", "Pipelines"), ("runs", "Runs"), ("schedules", "Schedules"), ("models", "Models"),
        ("datasets", "Datasets"), ("anomalies", "Anomalies"), ("reports", "Reports"),
    ];

    /// <summary>The whole document of a page for a signed-in user (<paramref name="request"/>) or for nobody (login, errors).</summary>
    public static string Document(UiPage page, UiRequest? request, UiFlash? flash)
    {
        var refresh = page.RefreshSeconds is { } seconds ? Html.Of($"<meta http-equiv=\"refresh\" content=\"{seconds}\">") : Html.Empty;
        var nav = Html.Empty;
        if (request is not null)
        {
            var project = request.Host.Id;
            var links = Sections.Select(s => Html.Of($"<a href=\"{UiUrls.Project(project)}/{s.Path}\"{(s.Path == page.Section ? Html.Of($" class=\"current\" aria-current=\"page\"") : Html.Empty)}>{s.Label}</a>"));
            nav = Html.Of($"""
                <nav class="sections">{Html.Join(links)}</nav>
                <div class="who">
                  <span title="token {request.Caller.Token.Id}">{request.Caller.Token.Name ?? "token " + request.Caller.Token.Id} · <b class="role">{Role(request.Role)}</b></span>
                  <form method="post" action="/ui/logout">{request.CsrfField}<button type="submit" class="link">Sign out</button></form>
                </div>
                """);
        }
        var home = request is null ? "/ui/" : UiUrls.Project(request.Host.Id);
        var projectName = request is null ? Html.Empty : Html.Of($"<a class=\"project\" href=\"{UiUrls.Project(request.Host.Id)}\">{request.Host.Definition.Name}</a>");
        var message = flash is null ? Html.Empty : Html.Of($"<p class=\"flash {(flash.Error ? "error" : "ok")}\" role=\"status\">{flash.Message}</p>");
        var html = Html.Of($"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <link rel="icon" href="/favicon.ico" type="image/svg+xml">
            {refresh}<title>{page.Title} · Millrace</title>
            <style>{Html.Trusted(Stylesheet)}</style>
            </head>
            <body>
            <header>
              <a class="brand" href="{home}">Millrace</a>{projectName}
              {nav}
            </header>
            <main>
            {message}{page.Body}
            </main>
            </body>
            </html>
            """);
        return html.Value;
    }

    public static string Role(TokenRole role) => role.ToString().ToLowerInvariant();

    /// <summary>A status word as a coloured badge.</summary>
    public static Html Badge(string status) => Html.Of($"<span class=\"badge {Css(status)}\">{status}</span>");

    public static Html Badge(RunStatus status) => Badge(status.Label());

    static string Css(string status) => new(status.Where(c => char.IsAsciiLetterOrDigit(c) || c == '-').ToArray());

    /// <summary>A UTC time, or a dash.</summary>
    public static Html Time(DateTimeOffset? at) => at is { } t
        ? Html.Of($"<time datetime=\"{t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}\">{t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}</time>")
        : Html.Of($"<span class=\"muted\">–</span>");

    /// <summary>A duration for people: 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min.</summary>
    public static string Duration(TimeSpan? duration) => duration switch
    {
        null => "–",
        { TotalSeconds: < 1 } d => $"{d.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms",
        { TotalMinutes: < 1 } d => $"{d.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s",
        { TotalHours: < 1 } d => $"{(int)d.TotalMinutes} min {d.Seconds.ToString("00", CultureInfo.InvariantCulture)} s",
        { } d => $"{(int)d.TotalHours} h {d.Minutes.ToString("00", CultureInfo.InvariantCulture)} min",
    };

    public static string Number(long? value) => value is { } v ? v.ToString("#,0", CultureInfo.InvariantCulture) : "–";

    public static string Metric(double value) =>
        double.IsFinite(value) ? (Math.Abs(value) >= 1000 ? value.ToString("#,0.##", CultureInfo.InvariantCulture) : value.ToString("0.####", CultureInfo.InvariantCulture)) : value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A table with a header row; <paramref name="rows"/> are the &lt;tr&gt; elements. Shows <paramref name="empty"/> when there are none.</summary>
    public static Html Table(IEnumerable<string> headers, IReadOnlyCollection<Html> rows, string empty, string? @class = null)
    {
        if (rows.Count == 0) return Html.Of($"<p class=\"empty\">{empty}</p>");
        var head = Html.Join(headers.Select(h => Html.Of($"<th scope=\"col\">{h}</th>")));
        return Html.Of($"<div class=\"scroll\"><table{(@class is null ? Html.Empty : Html.Of($" class=\"{@class}\""))}><thead><tr>{head}</tr></thead><tbody>{Html.Join(rows)}</tbody></table></div>");
    }

    /// <summary>Label-value pairs as a definition list.</summary>
    public static Html Facts(params (string Label, Html Value)[] facts) =>
        Html.Of($"<dl class=\"facts\">{Html.Join(facts.Select(f => Html.Of($"<dt>{f.Label}</dt><dd>{f.Value}</dd>")))}</dl>");

    /// <summary>Text cut to <paramref name="max"/> characters, with the whole text as a tooltip when cut.</summary>
    public static Html Truncated(string? text, int max)
    {
        if (text is null) return Html.Empty;
        return text.Length <= max ? Html.Text(text) : Html.Of($"<span title=\"{text}\">{text[..max]}…</span>");
    }

    /// <summary>A POST form with one button, protected by the session's CSRF field; disabled (with the reason) when the role may not.</summary>
    public static Html ActionButton(UiRequest request, string action, string label, TokenRole needed, Html fields = default, string? @class = null, string? name = null)
    {
        var allowed = request.Role >= needed;
        var title = allowed ? Html.Empty : Html.Of($" title=\"needs the {Role(needed)} role; you are {Role(request.Role)}\"");
        return Html.Of($"""<form method="post" action="{action}" class="inline">{request.CsrfField}{fields}<button type="submit"{(name is null ? Html.Empty : Html.Of($" name=\"{name}\""))}{(@class is null ? Html.Empty : Html.Of($" class=\"{@class}\""))}{(allowed ? Html.Empty : Html.Of($" disabled"))}{title}>{label}</button></form>""");
    }

    /// <summary>A note shown where an action is not available to the signed-in role.</summary>
    public static Html RoleNote(UiRequest request, TokenRole needed, string what) =>
        request.Role >= needed ? Html.Empty : Html.Of($"<p class=\"note\">{what} needs a token with the {Role(needed)} role (you signed in as {Role(request.Role)}).</p>");

    /// <summary>The only stylesheet: inline, so the UI fetches nothing besides its pages.</summary>
    const string Stylesheet = """
        :root { --ink: #1f2933; --muted: #616e7c; --line: #d9dee3; --bg: #f5f7f9; --card: #fff; --accent: #1d5fa8; --accent-ink: #fff;
                --ok: #1e7a46; --ok-bg: #e3f4ea; --bad: #b42318; --bad-bg: #fde8e6; --warn: #8a5a00; --warn-bg: #fff4d6; --run: #1d5fa8; --run-bg: #e3eefb; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 "DejaVu Sans", "Segoe UI", system-ui, sans-serif; color: var(--ink); background: var(--bg); }
        header { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 18px; padding: 10px 24px; background: #17324d; color: #fff; }
        header a { color: #dbe7f3; text-decoration: none; }
        header a:hover { color: #fff; text-decoration: underline; }
        header .brand { font-weight: 700; font-size: 17px; color: #fff; letter-spacing: .3px; }
        header .project { font-weight: 600; color: #fff; padding-left: 12px; border-left: 1px solid #4b6480; }
        nav.sections { display: flex; flex-wrap: wrap; gap: 4px; flex: 1; }
        nav.sections a { padding: 4px 10px; border-radius: 4px; }
        nav.sections a.current { background: #2d4f73; color: #fff; }
        .who { display: flex; align-items: center; gap: 10px; font-size: 13px; color: #c6d4e2; }
        .who .role { color: #fff; }
        .who button.link { color: #dbe7f3; }
        main { padding: 20px 24px 48px; max-width: 1280px; }
        h1 { font-size: 22px; margin: 4px 0 14px; }
        h2 { font-size: 17px; margin: 26px 0 10px; }
        h3 { font-size: 15px; margin: 18px 0 8px; }
        a { color: var(--accent); }
        h2 a.more { font-size: 13px; font-weight: 400; margin-left: 8px; }
        form.bar label span code { font-size: 12px; }
        .muted, .empty, .note { color: var(--muted); }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 14px 16px; margin: 12px 0; }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 12px; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); }
        th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: #eef1f4; font-weight: 600; white-space: nowrap; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        tbody tr:hover { background: #f8fafc; }
        time, .mono, .nowrap { white-space: nowrap; }
        code, pre, .mono { font-family: "DejaVu Sans Mono", ui-monospace, monospace; font-size: 12.5px; }
        pre { background: #0f1b26; color: #e6edf3; padding: 10px 12px; border-radius: 6px; overflow: auto; max-height: 520px; white-space: pre-wrap; word-break: break-word; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #eceff2; color: var(--muted); }
        .badge.succeeded, .badge.uptodate, .badge.champion, .badge.active, .badge.info, .badge.met { background: var(--ok-bg); color: var(--ok); }
        .badge.failed, .badge.deadlinemissed, .badge.error, .badge.missed { background: var(--bad-bg); color: var(--bad); }
        .badge.running, .badge.queued, .badge.challenger { background: var(--run-bg); color: var(--run); }
        .badge.cancelled, .badge.skipped, .badge.stale, .badge.waiting, .badge.paused, .badge.warning { background: var(--warn-bg); color: var(--warn); }
        .flash { padding: 8px 12px; border-radius: 6px; border: 1px solid; }
        .flash.ok { background: var(--ok-bg); color: var(--ok); border-color: #b7e0c6; }
        .flash.error { background: var(--bad-bg); color: var(--bad); border-color: #f4b8b1; }
        .flash.warning { background: var(--warn-bg); color: var(--warn); border-color: #e8cf8a; }
        .error-text { color: var(--bad); white-space: pre-wrap; }
        form.inline { display: inline; margin: 0; }
        form.bar { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin: 8px 0 14px; }
        form.bar label { display: flex; flex-direction: column; gap: 2px; font-size: 12px; color: var(--muted); }
        input, select, textarea { font: inherit; padding: 5px 8px; border: 1px solid #b8c2cc; border-radius: 4px; background: #fff; color: var(--ink); }
        input.wide { min-width: 420px; }
        button { white-space: nowrap; font: inherit; padding: 5px 12px; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-ink); cursor: pointer; }
        button.secondary { background: #fff; color: var(--accent); }
        button.danger { background: #fff; color: var(--bad); border-color: var(--bad); }
        button[disabled] { background: #e5e8eb; border-color: #c9d0d6; color: #8a949e; cursor: not-allowed; }
        button.link { background: none; border: none; padding: 0; color: var(--accent); text-decoration: underline; }
        .actions { display: flex; gap: 8px; flex-wrap: wrap; margin: 10px 0; }
        .dag { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px; overflow-x: auto; }
        .dag svg { display: block; }
        .bar-cell { display: flex; align-items: center; gap: 8px; }
        .bar-cell span.bar { display: inline-block; height: 10px; background: #7aa7d6; border-radius: 2px; }
        .log .warn { color: #ffd27a; } .log .error { color: #ff9b8f; }
        .login { max-width: 460px; margin: 48px auto; }
        .login input[type=password] { width: 100%; margin: 6px 0 12px; }
        .pager { display: flex; gap: 14px; margin: 10px 0; }
        """;
}

/// <summary>A one-time message shown on the next page (after an action redirects).</summary>
sealed record UiFlash(string Message, bool Error);
