using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Millrace.Reports;
using Millrace.Server.Hosting;

namespace Millrace.Server.Ui;

/// <summary>
/// Published reports (<c>reports/&lt;name&gt;/&lt;run.date&gt;/index.html</c> in the lake): the latest of each and
/// its history, each served as its own self-contained page. Only names, dates and file names of the published shape
/// are served, and only from inside the lake's reports folder.
/// </summary>
static partial class ReportPages
{
    /// <summary>A report folder and its published run dates, newest first.</summary>
    public sealed record ReportFolder(string Name, IReadOnlyList<string> Dates);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,128}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("<body[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex BodyTag();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex FilePattern();

    [GeneratedRegex("<title>(.*?)</title>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex TitlePattern();

    const string Index = "index.html";

    static string Root(ProjectHost host) => Path.Combine(host.Definition.LakeRoot, "reports");

    /// <summary>
    /// On an S3 lake the pages are served from this node's cache: brings the published files under
    /// <paramref name="prefix"/> into it first (only files that are missing or changed are downloaded).
    /// </summary>
    static async Task SyncAsync(ProjectHost host, string prefix, CancellationToken ct)
    {
        var lake = host.OpenLake();
        if (lake.Storage.IsRemote) await lake.Storage.FetchAsync(await lake.Storage.ListAsync(prefix, ct), ct);
    }

    /// <summary>The report folders that have at least one published page.</summary>
    public static IReadOnlyList<ReportFolder> Folders(ProjectHost host)
    {
        var root = Root(host);
        if (!Directory.Exists(root)) return [];
        return Directory.EnumerateDirectories(root)
            .Where(d => new DirectoryInfo(d).LinkTarget is null)
            .Select(d => Path.GetFileName(d))
            .Where(n => NamePattern().IsMatch(n))
            .Select(n => new ReportFolder(n, Dates(root, n)))
            .Where(f => f.Dates.Count > 0)
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
    }

    static List<string> Dates(string root, string name) =>
        Directory.EnumerateDirectories(Path.Combine(root, name))
            .Where(d => new DirectoryInfo(d).LinkTarget is null)
            .Select(d => Path.GetFileName(d))
            .Where(d => IsDate(d) && File.Exists(Path.Combine(root, name, d, Index)))
            .OrderDescending(StringComparer.Ordinal)
            .ToList();

    static bool IsDate(string text) => DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    public static async Task<UiPage> ListAsync(UiRequest request)
    {
        var host = request.Host;
        await SyncAsync(host, "reports/", request.Http.RequestAborted);
        var rows = Folders(host).Select(f =>
        {
            var latest = f.Dates[0];
            var snapshot = Snapshot(host, f.Name, latest);
            return Html.Of($"""
                <tr><td><a href="{UiUrls.Report(host.Id, f.Name)}">{f.Name}</a></td><td>{snapshot?.Title ?? PageTitle(host, f.Name, latest) ?? f.Name}</td>
                <td class="nowrap"><a href="{UiUrls.ReportRun(host.Id, f.Name, latest)}" class="open-report">{latest}</a></td><td class="num">{f.Dates.Count}</td>
                <td>{Kpis(snapshot)}</td></tr>
                """);
        }).ToList();
        var body = Html.Of($"""
            <h1>Reports</h1>
            {UiLayout.Table(["Report", "Title", "Latest", "Published", "Latest KPIs"], rows, "No report published yet: a report step publishes reports/<name>/<run.date>/index.html when its run commits.", "reports")}
            """);
        return new UiPage("Reports", body, Section: "reports");
    }

    public static async Task<UiPage> HistoryAsync(UiRequest request, string name)
    {
        var host = request.Host;
        if (NamePattern().IsMatch(name)) await SyncAsync(host, $"reports/{name}/", request.Http.RequestAborted);
        var folder = NamePattern().IsMatch(name) ? Folders(host).FirstOrDefault(f => f.Name == name) : null;
        if (folder is null) return PipelinePages.NotFound($"No published report '{name}' in project '{host.Id}'.", host.Id);
        var snapshots = folder.Dates.ToDictionary(date => date, date => Snapshot(host, name, date), StringComparer.Ordinal);
        var stale = await host.Store.GetOpenStaleMarksAsync(snapshots.Values.Select(s => s?.RunId).OfType<string>().ToList(), request.Aborted);
        var rows = folder.Dates.Select(date =>
        {
            var snapshot = snapshots[date];
            var mark = snapshot?.RunId is { } madeBy ? stale.GetValueOrDefault(madeBy) : null;
            var others = Directory.EnumerateFiles(Path.Combine(Root(host), name, date)).Select(f => Path.GetFileName(f))
                .Where(f => f != Index && FilePattern().IsMatch(f)).Order(StringComparer.Ordinal)
                .Select(f => Html.Of($"<a href=\"{UiUrls.ReportRun(host.Id, name, date)}{Uri.EscapeDataString(f)}\">{f}</a>"));
            return Html.Of($"""
                <tr><td class="nowrap"><a href="{UiUrls.ReportRun(host.Id, name, date)}">{date}</a></td><td>{snapshot?.Title ?? PageTitle(host, name, date) ?? name}</td>
                <td>{Kpis(snapshot)}</td><td>{(snapshot?.RunId is { } run ? Html.Of($"<a href=\"{UiUrls.Run(host.Id, run)}\" class=\"mono\">{run}</a>") : Html.Empty)}{(mark is null ? Html.Empty : Html.Of($" <span class=\"badge warning stale\" title=\"{mark.Reason}\">stale</span>"))}</td>
                <td>{Html.Join(Html.Of($", "), others)}</td></tr>
                """);
        }).ToList();
        var body = Html.Of($"""
            <h1>Report {name}</h1>
            <p><a href="{UiUrls.ReportRun(host.Id, name, folder.Dates[0])}" class="open-report">Open the latest ({folder.Dates[0]})</a></p>
            <h2>History</h2>
            {UiLayout.Table(["Run date", "Title", "KPIs", "Run", "Files"], rows, "Nothing published.", "history")}
            """);
        return new UiPage($"Report {name}", body, Section: "reports");
    }

    /// <summary>Serves a published file: the report page itself (no file name) or a file beside it (a table's CSV).</summary>
    public static async Task<UiFile> FileAsync(UiRequest request, string name, string date, string? file)
    {
        var host = request.Host;
        UiFile Missing() => new(null, PipelinePages.NotFound($"No published file reports/{name}/{date}/{file ?? Index} in project '{host.Id}'.", host.Id));
        if (!NamePattern().IsMatch(name) || !IsDate(date) || (file is not null && (!FilePattern().IsMatch(file) || file.Contains("..", StringComparison.Ordinal))))
            return Missing();
        // The page's relative links (its tables' CSV files) resolve against its folder, so that needs the trailing slash.
        if (file is null && !(request.Http.Request.Path.Value ?? "").EndsWith('/'))
            return new UiFile(Results.Redirect(UiUrls.ReportRun(host.Id, name, date)), null);
        await SyncAsync(host, $"reports/{name}/{date}/", request.Http.RequestAborted);
        var root = Path.GetFullPath(Root(host));
        var path = Path.GetFullPath(Path.Combine(root, name, date, file ?? Index));
        if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(path) || LeavesRoot(path, root))
            return Missing();
        var contentType = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".html" => "text/html; charset=utf-8",
            ".csv" => "text/csv; charset=utf-8",
            ".json" => "application/json",
            ".svg" => "image/svg+xml",
            ".png" => "image/png",
            ".txt" => "text/plain; charset=utf-8",
            _ => "application/octet-stream",
        };
        if (file is null && Snapshot(host, name, date)?.RunId is { } madeBy
            && (await host.Store.GetOpenStaleMarksAsync([madeBy], request.Aborted)).GetValueOrDefault(madeBy) is { } mark)
            return new UiFile(Results.Content(StaleBanner(await File.ReadAllTextAsync(path, request.Aborted), mark), contentType), null);
        return new UiFile(Results.File(path, contentType, fileDownloadName: contentType == "application/octet-stream" ? Path.GetFileName(path) : null), null);
    }

    /// <summary>
    /// The report page with a notice at the top of its body that what it shows is stale (the published file in the lake
    /// is left as its run wrote it; the UI says it until a rerun replaces it).
    /// </summary>
    static string StaleBanner(string page, Millrace.Storage.StaleMark mark)
    {
        var notice = Html.Of($"""
            <div id="millrace-stale" role="alert" style="background:#fff4d6;color:#8a5a00;border:1px solid #8a5a00;padding:8px 12px;margin:8px;font-family:sans-serif">
            <b>This report is stale</b> since {mark.MarkedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC: {mark.Reason}. A successful run of {mark.Pipeline} for {mark.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)} replaces it.</div>
            """).Value;
        var body = BodyTag().Match(page);
        return body.Success ? page.Insert(body.Index + body.Length, notice) : notice + page;
    }

    /// <summary>True when the file or a folder on its way is a link that points outside the reports folder.</summary>
    static bool LeavesRoot(string path, string root)
    {
        for (var current = path; current.Length > root.Length; current = Path.GetDirectoryName(current)!)
        {
            FileSystemInfo info = File.Exists(current) ? new FileInfo(current) : new DirectoryInfo(current);
            if (info.LinkTarget is null) continue;
            var target = info.ResolveLinkTarget(returnFinalTarget: true)?.FullName;
            if (target is null || !target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    static KpiSnapshot? Snapshot(ProjectHost host, string name, string date)
    {
        var file = Path.Combine(Root(host), name, date, KpiHistory.FileName);
        if (!File.Exists(file)) return null;
        try { return KpiHistory.Deserialize(File.ReadAllText(file)); }
        catch (Exception e) when (e is JsonException or IOException or NotSupportedException) { return null; }
    }

    static string? PageTitle(ProjectHost host, string name, string date)
    {
        try
        {
            using var reader = new StreamReader(Path.Combine(Root(host), name, date, Index));
            var head = new char[8192];
            var read = reader.ReadBlock(head, 0, head.Length);
            var match = TitlePattern().Match(new string(head, 0, read));
            return match.Success ? System.Net.WebUtility.HtmlDecode(match.Groups[1].Value).Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    static Html Kpis(KpiSnapshot? snapshot)
    {
        if (snapshot is null || snapshot.Kpis.Count == 0) return Html.Empty;
        return Html.Join(Html.Of($"; "), snapshot.Kpis.Take(4).Select(k => Html.Of($"{k.Label} <b>{(k.Value is { } v ? UiLayout.Metric(v) : "–")}</b>{Change(k.Change)}")));
    }

    static Html Change(double? change) => change is { } c && double.IsFinite(c)
        ? Html.Of($" <span class=\"muted\">({(c >= 0 ? "+" : "")}{UiLayout.Metric(c)})</span>")
        : Html.Empty;
}

/// <summary>What a file route answers: the file, or a page (not found).</summary>
sealed record UiFile(IResult? Result, UiPage? Page);
