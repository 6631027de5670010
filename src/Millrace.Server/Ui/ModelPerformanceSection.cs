using System.Globalization;
using Millrace.Reports;
using Millrace.Server.Api;

namespace Millrace.Server.Ui;

/// <summary>
/// The model page's realized-performance section: per version a line chart of the task's first metric by score date
/// (champion and shadow), the holdout figure the version was registered on as a reference line, and the coverage
/// (the share of the date's predictions with a label); then the points as a table.
/// </summary>
static class ModelPerformanceSection
{
    /// <summary>The last 180 score dates, the window the section shows.</summary>
    const int Days = 180;

    public static async Task<Html> RenderAsync(UiRequest request, string name)
    {
        var host = request.Host;
        var all = await host.Store.ListPerformanceAsync(host.Id, name, null, null, null, request.Aborted);
        DateOnly? newest = all.Count == 0 ? null : all.Max(p => p.ScoreDate);
        if (newest is null)
            return Html.Of($"<h2>Realized performance</h2><p class=\"muted\">No realized performance yet: an <code>evaluate</code> step records it once the predictions' labels arrive.</p>");
        var view = await PerformanceEndpoints.ReadAsync(host.Store, host.Id, name, null, newest.Value.AddDays(-Days + 1), newest, request.Aborted);
        if (view is null || view.Points.Count == 0) return Html.Empty;
        var metric = view.MetricNames[0];
        var bounded = metric is not ("rmse" or "mae");
        var charts = new List<Html>();
        foreach (var version in view.Points.GroupBy(p => p.Version).OrderByDescending(g => g.Key))
        {
            var dates = version.Select(p => p.ScoreDate).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var x = dates.Select(d => DateOnly.ParseExact(d, "yyyy-MM-dd", CultureInfo.InvariantCulture).ToDateTime(TimeOnly.MinValue).ToOADate()).ToList();
            double Value(string date, string variant, Func<PerformancePointView, double?> pick) =>
                version.FirstOrDefault(p => p.ScoreDate == date && p.Variant == variant) is { } p && pick(p) is { } v ? v : double.NaN;
            var series = new List<ChartSeries> { new($"{metric} (champion)", dates.Select(d => Value(d, "champion", p => p.Metrics.TryGetValue(metric, out var m) ? m : null)).ToList()) };
            if (version.Any(p => p.Variant == "shadow"))
                series.Add(new($"{metric} (shadow)", dates.Select(d => Value(d, "shadow", p => p.Metrics.TryGetValue(metric, out var m) ? m : null)).ToList()));
            if (bounded) series.Add(new("coverage", dates.Select(d => Value(d, "champion", p => p.Coverage)).ToList()));
            var holdout = view.Holdout.FirstOrDefault(h => h.Version == version.Key)?.Metrics;
            var lines = holdout is not null && holdout.TryGetValue(metric, out var reference) && x.Count > 0
                ? [new ReferenceLine(x[0], reference, x[^1] == x[0] ? x[0] + 1 : x[^1], reference, $"holdout {metric} {reference.ToString("0.000", CultureInfo.InvariantCulture)}")]
                : Array.Empty<ReferenceLine>();
            var svg = ChartBuilder.Render(new ChartOptions(ChartType.Line)
            {
                XLabel = "score date", YLabel = bounded ? $"{metric}, coverage" : metric, Description = $"v{version.Key}: realized {metric} by score date",
                YLimits = bounded ? (0, 1) : null, ReferenceLines = lines, Height = 260,
            }, new ChartData(ChartAxisKind.Date, x, [], series), $"perf-v{version.Key}");
            charts.Add(Html.Of($"<h3>v{version.Key}</h3><div class=\"chart\" data-version=\"{version.Key}\">{Html.Trusted(svg)}</div>"));
        }
        var rows = view.Points.OrderByDescending(p => p.ScoreDate, StringComparer.Ordinal).ThenByDescending(p => p.Version).Take(60).Select(p => Html.Of($"""
            <tr><td>{p.ScoreDate}</td><td>v{p.Version}</td><td>{p.Variant}</td><td class="num">{UiLayout.Number(p.LabelledRows)} / {UiLayout.Number(p.ScoredRows)}</td><td class="num">{p.Coverage.ToString("P0", CultureInfo.InvariantCulture)}</td>
            {Html.Join(view.MetricNames.Select(m => Html.Of($"<td class=\"num\">{(p.Metrics.TryGetValue(m, out var v) ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "–")}</td>")))}</tr>
            """)).ToList();
        return Html.Of($"""
            <h2>Realized performance <span class="muted">(score dates up to {newest.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)})</span></h2>
            <p class="muted">How the served predictions scored once their labels arrived, per score date; the dashed line is the holdout figure the version was registered on.</p>
            {Html.Join(charts)}
            {UiLayout.Table(["Score date", "Version", "Variant", "Labelled / scored", "Coverage", .. view.MetricNames], rows, "No points.", "performance")}
            """);
    }
}
