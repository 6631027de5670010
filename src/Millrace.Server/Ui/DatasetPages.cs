using System.Globalization;
using DuckDB.NET.Data;
using Millrace.Lake;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Server.Ui;

/// <summary>Datasets: the list with their current versions, and one dataset's versions, schema and a preview of its rows.</summary>
static class DatasetPages
{
    /// <summary>Rows the preview shows.</summary>
    public const int PreviewRows = 20;
    const int MaxCell = 200;

    public static async Task<UiPage> ListAsync(UiRequest request)
    {
        var host = request.Host;
        var datasets = await host.Store.ListDatasetsAsync(request.Aborted);
        var stale = await host.Store.GetOpenStaleMarksAsync(datasets.Select(d => d.RunId).ToList(), request.Aborted);
        var rows = datasets.OrderBy(d => d.Dataset, StringComparer.Ordinal).Select(d => Html.Of($"""
            <tr><td><a href="{UiUrls.Dataset(host.Id, d.Dataset)}">{d.Dataset}</a></td><td>v{d.Version}{StaleBadge(stale.GetValueOrDefault(d.RunId))}</td><td class="num">{UiLayout.Number(d.Rows)}</td>
            <td class="num">{d.Files.Count}</td><td>{d.Schema.Count}</td><td>{d.Operation}</td><td>{UiLayout.Time(d.CreatedAt)}</td>
            <td><a href="{UiUrls.Run(host.Id, d.RunId)}" class="mono">{d.RunId}</a></td></tr>
            """)).ToList();
        var body = Html.Of($"""
            <h1>Datasets</h1>
            {UiLayout.Table(["Dataset", "Current version", "Rows", "Files", "Columns", "Made by", "Committed (UTC)", "Run"], rows, "No dataset yet: write and merge steps make them when their runs commit.")}
            """);
        return new UiPage("Datasets", body, Section: "datasets");
    }

    public static async Task<UiPage> ShowAsync(UiRequest request, string name)
    {
        var host = request.Host;
        var ct = request.Aborted;
        var versions = (await host.Store.ListDatasetVersionsAsync(name, ct)).OrderByDescending(v => v.Version).ToList();
        if (versions.Count == 0) return PipelinePages.NotFound($"No dataset '{name}' in project '{host.Id}'.", host.Id);
        var requested = int.TryParse(request.Query("version"), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : (int?)null;
        var shown = requested is { } r ? versions.FirstOrDefault(x => x.Version == r) : versions[0];
        if (shown is null) return PipelinePages.NotFound($"Dataset '{name}' has no version v{requested}.", host.Id);

        var stale = await host.Store.GetStaleDatasetVersionsAsync(name, ct);
        var versionRows = versions.Select(x => Html.Of($"""
            <tr{(x.Version == shown.Version ? Html.Of($" class=\"current\"") : Html.Empty)}><td><a href="{UiUrls.Dataset(host.Id, name, x.Version)}">v{x.Version}</a>{(x.Version == versions[0].Version ? Html.Of($" {UiLayout.Badge("current")}") : Html.Empty)}{StaleBadge(stale.GetValueOrDefault(x.Version))}</td>
            <td class="num">{UiLayout.Number(x.Rows)}</td><td class="num">{x.Files.Count}</td><td>{x.Operation}</td><td>{UiLayout.Time(x.CreatedAt)}</td>
            <td>{x.Workflow}.{x.StepId}</td><td><a href="{UiUrls.Run(host.Id, x.RunId)}" class="mono">{x.RunId}</a></td></tr>
            """)).ToList();
        var schemaRows = shown.Schema.Select(c => Html.Of($"<tr><td><code>{c.Name}</code></td><td>{c.Type}</td></tr>")).ToList();
        var preview = await PreviewAsync(host, shown, ct);
        var body = Html.Of($"""
            <h1>Dataset {name}</h1>
            {(stale.GetValueOrDefault(shown.Version) is { } mark ? Html.Of($"<div class=\"flash warning\" id=\"version-stale\"><b>v{shown.Version} is stale:</b> {mark.Reason} (run {mark.RunId}, {mark.Pipeline} for {mark.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}).</div>") : Html.Empty)}
            <h2>Preview of v{shown.Version} <span class="muted">(first {PreviewRows} of {UiLayout.Number(shown.Rows)} rows)</span></h2>
            {preview}
            <h2>Schema of v{shown.Version}</h2>
            {UiLayout.Table(["Column", "Type"], schemaRows, "No columns.", "schema")}
            <h2>Versions</h2>
            {UiLayout.Table(["Version", "Rows", "Files", "Made by", "Committed (UTC)", "Step", "Run"], versionRows, "No versions.", "versions")}
            <details><summary>Files of v{shown.Version} ({shown.Files.Count})</summary><pre>{string.Join("\n", shown.Files)}</pre></details>
            """);
        return new UiPage($"Dataset {name}", body, Section: "datasets");
    }

    /// <summary>A "stale" badge with the reason as its title, or nothing.</summary>
    static Html StaleBadge(StaleMark? mark) => mark is null ? Html.Empty : Html.Of($" <span class=\"badge warning stale\" title=\"{mark.Reason}\">stale</span>");

    /// <summary>The first rows of a version, read with DuckDB from its Parquet files (nothing is loaded whole).</summary>
    static async Task<Html> PreviewAsync(Hosting.ProjectHost host, DatasetVersion version, CancellationToken ct)
    {
        if (version.Files.Count == 0) return Html.Of($"<p class=\"empty\">This version has no rows.</p>");
        var lake = host.OpenLake();
        List<string> columns;
        var rows = new List<string?[]>();
        try
        {
            var files = "[" + string.Join(", ", (await lake.FetchAsync(version.Files, ct)).Select(SqlText.Quote)) + "]";
            await using var connection = new DuckDBConnection("DataSource=:memory:");
            await connection.OpenAsync(ct);
            await using (var settings = connection.CreateCommand())
            {
                settings.CommandText = "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false; SET threads = 1;";
                await settings.ExecuteNonQueryAsync(ct);
            }
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM read_parquet({files}, union_by_name = true, hive_partitioning = false) LIMIT {PreviewRows}";
            await using var reader = await command.ExecuteReaderAsync(ct);
            columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
            while (await reader.ReadAsync(ct))
            {
                var row = new string?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : Cell(reader.GetValue(i));
                rows.Add(row);
            }
        }
        catch (Exception e) when (e is DuckDBException or IOException or LakePathException)
        {
            return Html.Of($"<p class=\"flash error\">The preview could not be read: {e.Message}</p>");
        }
        var head = Html.Join(columns.Select(c => Html.Of($"<th scope=\"col\">{c}</th>")));
        var body = Html.Join(rows.Select(row => Html.Of($"<tr>{Html.Join(row.Select(cell => cell is null ? Html.Of($"<td class=\"muted\">NULL</td>") : Html.Of($"<td>{UiLayout.Truncated(cell, MaxCell)}</td>")))}</tr>")));
        return rows.Count == 0 ? Html.Of($"<p class=\"empty\">No rows.</p>") : Html.Of($"<div class=\"scroll\"><table class=\"preview\"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>");
    }

    static string Cell(object value) => value switch
    {
        DateTime t => t.ToString(t.TimeOfDay == TimeSpan.Zero ? "yyyy-MM-dd" : "yyyy-MM-dd HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.FFFFFF'Z'", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        byte[] bytes => $"({bytes.Length} bytes)",
        System.Collections.IDictionary map => "{" + string.Join(", ", map.Keys.Cast<object>().Select(k => $"{Cell(k)}: {(map[k] is { } x ? Cell(x) : "NULL")}")) + "}",
        System.Collections.IEnumerable list and not string => "[" + string.Join(", ", list.Cast<object?>().Select(x => x is null ? "NULL" : Cell(x))) + "]",
        _ => value.ToString() ?? "",
    };
}
