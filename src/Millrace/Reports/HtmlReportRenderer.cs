using System.Globalization;
using System.Net;
using System.Text;

namespace Millrace.Reports;

/// <summary>
/// Renders a <see cref="ReportDocument"/> as one self-contained HTML page: inline CSS, charts as inline SVG, no
/// script, no font or stylesheet from anywhere, nothing that needs a network. The only links are to the CSV files
/// published beside the page. The same document always renders to the same bytes.
/// </summary>
public static class HtmlReportRenderer
{
    const string Css = """
        :root { color-scheme: light; --ink: #1d2733; --muted: #5b6876; --line: #d9dee4; --panel: #f5f7f9; --good: #1a7f37; --bad: #c62828; --accent: #1f77b4; }
        * { box-sizing: border-box; }
        body { margin: 0; font-family: "DejaVu Sans", "Bitstream Vera Sans", Verdana, system-ui, sans-serif; color: var(--ink); background: #fff; line-height: 1.45; font-size: 15px; }
        header { padding: 28px 40px 18px; border-bottom: 3px solid var(--accent); background: var(--panel); }
        header h1 { margin: 0 0 6px; font-size: 26px; }
        .meta { margin: 0; color: var(--muted); font-size: 13px; }
        main { padding: 8px 40px 32px; max-width: 1180px; }
        section { margin-top: 26px; }
        h2 { font-size: 20px; margin: 0 0 14px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
        h3 { font-size: 16px; margin: 18px 0 8px; }
        h4 { font-size: 14px; margin: 14px 0 6px; }
        .kpis { display: flex; flex-wrap: wrap; gap: 14px; margin: 8px 0 18px; }
        .kpi { flex: 1 1 200px; max-width: 280px; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; background: #fff; }
        .kpi .label { color: var(--muted); font-size: 13px; }
        .kpi .value { font-size: 28px; font-weight: bold; margin: 4px 0; white-space: nowrap; }
        .kpi .change { font-size: 13px; color: var(--muted); }
        .kpi .change.good { color: var(--good); }
        .kpi .change.bad { color: var(--bad); }
        figure { margin: 8px 0 20px; }
        figcaption { font-weight: bold; margin-bottom: 6px; }
        svg.chart { max-width: 100%; height: auto; display: block; }
        svg.chart text { font-family: "DejaVu Sans", "Bitstream Vera Sans", Verdana, sans-serif; }
        .table { margin: 8px 0 20px; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; font-size: 13px; }
        th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
        th { background: var(--panel); }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        .note { color: var(--muted); font-size: 12px; margin: 6px 0 0; }
        .text p, .text ul { max-width: 860px; }
        table.confusion td, table.confusion th { text-align: center; padding: 8px 14px; }
        table.confusion td.hit { background: #e3f1e6; }
        table.confusion td.miss { background: #fbe6e6; }
        footer { padding: 14px 40px 28px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); }
        """;

    /// <summary>The page, UTF-8 text with '\n' line ends.</summary>
    public static string Render(ReportDocument report)
    {
        var html = new StringBuilder();
        var date = report.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<meta name=\"generator\" content=\"Millrace\">\n")
            .Append("<title>").Append(Encode(report.Title)).Append(" — ").Append(date).Append("</title>\n")
            .Append("<style>\n").Append(Css.ReplaceLineEndings("\n")).Append("\n</style>\n</head>\n<body>\n");
        html.Append("<header>\n<h1>").Append(Encode(report.Title)).Append("</h1>\n<p class=\"meta\">Report <code>").Append(Encode(report.Name))
            .Append("</code> · run date ").Append(date);
        if (report.PreviousDate is { } previous)
            html.Append(" · changes against ").Append(previous.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        html.Append("</p>\n</header>\n<main>\n");
        foreach (var section in report.Sections) RenderSection(html, section, report.PreviousDate);
        html.Append("</main>\n<footer>Rendered by Millrace for run date ").Append(date).Append(".</footer>\n</body>\n</html>\n");
        return html.ToString();
    }

    static void RenderSection(StringBuilder html, ReportSection section, DateOnly? previousDate)
    {
        html.Append("<section>\n");
        if (section.Title is not null) html.Append("<h2>").Append(Encode(section.Title)).Append("</h2>\n");
        // Consecutive KPIs share one row of cards.
        var openKpis = false;
        foreach (var block in section.Blocks)
        {
            if (block is KpiBlock && !openKpis) { html.Append("<div class=\"kpis\">\n"); openKpis = true; }
            if (block is not KpiBlock && openKpis) { html.Append("</div>\n"); openKpis = false; }
            switch (block)
            {
                case KpiBlock kpi: RenderKpi(html, kpi.Kpi, previousDate); break;
                case ChartBlock chart: RenderChart(html, chart); break;
                case TableBlock table: RenderTable(html, table); break;
                case TextBlock text: html.Append("<div class=\"text\">\n").Append(ReportText.ToHtml(text.Text)).Append("</div>\n"); break;
                case ConfusionMatrixBlock matrix: RenderConfusionMatrix(html, matrix); break;
            }
        }
        if (openKpis) html.Append("</div>\n");
        html.Append("</section>\n");
    }

    static void RenderKpi(StringBuilder html, KpiValue kpi, DateOnly? previousDate)
    {
        html.Append("<div class=\"kpi\"><div class=\"label\">").Append(Encode(kpi.Label)).Append("</div><div class=\"value\">")
            .Append(Encode(kpi.FormattedValue)).Append("</div>");
        if (kpi.FormattedChange is { } change)
        {
            var arrow = kpi.Direction switch { "up" => "▲", "down" => "▼", _ => "▶" };
            var tone = kpi.IsImprovement switch { true => " good", false => " bad", _ => "" };
            html.Append("<div class=\"change ").Append(kpi.Direction).Append(tone).Append("\" title=\"previous: ").Append(Encode(kpi.FormattedPrevious!)).Append("\">")
                .Append(arrow).Append(' ').Append(Encode(change));
            if (previousDate is { } date) html.Append(" vs ").Append(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            html.Append("</div>");
        }
        else html.Append("<div class=\"change\">no earlier value</div>");
        html.Append("</div>\n");
    }

    static void RenderChart(StringBuilder html, ChartBlock chart)
    {
        html.Append("<figure>\n");
        if (chart.Title is not null) html.Append("<figcaption>").Append(Encode(chart.Title)).Append("</figcaption>\n");
        if (chart.Svg is not null) html.Append(chart.Svg).Append('\n');
        if (chart.Note is not null) html.Append("<p class=\"note\">").Append(Encode(chart.Note)).Append("</p>\n");
        html.Append("</figure>\n");
    }

    static void RenderTable(StringBuilder html, TableBlock table)
    {
        html.Append("<div class=\"table\">\n");
        if (table.Title is not null) html.Append("<h3>").Append(Encode(table.Title)).Append("</h3>\n");
        html.Append("<div class=\"scroll\"><table>\n<thead><tr>");
        for (var c = 0; c < table.Columns.Count; c++)
            html.Append(table.Numeric[c] ? "<th class=\"num\">" : "<th>").Append(Encode(table.Columns[c])).Append("</th>");
        html.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in table.Rows)
        {
            html.Append("<tr>");
            for (var c = 0; c < row.Count; c++) html.Append(table.Numeric[c] ? "<td class=\"num\">" : "<td>").Append(Encode(row[c])).Append("</td>");
            html.Append("</tr>\n");
        }
        html.Append("</tbody>\n</table></div>\n<p class=\"note\">");
        html.Append(table.Rows.Count == table.TotalRows
            ? $"{Count(table.TotalRows)} row{(table.TotalRows == 1 ? "" : "s")}"
            : $"First {Count(table.Rows.Count)} of {Count(table.TotalRows)} rows");
        if (table.CsvFile is not null)
            html.Append(" · all rows in <a href=\"").Append(Encode(Uri.EscapeDataString(table.CsvFile))).Append("\">").Append(Encode(table.CsvFile)).Append("</a>");
        html.Append("</p>\n</div>\n");
    }

    static void RenderConfusionMatrix(StringBuilder html, ConfusionMatrixBlock m)
    {
        string Cell(double value, double rowTotal, string kind) =>
            $"<td class=\"{kind}\"><strong>{Count((long)Math.Round(value))}</strong><br>{Percent(value, rowTotal)} of row</td>";
        var positives = m.TruePositives + m.FalseNegatives;
        var negatives = m.FalsePositives + m.TrueNegatives;
        html.Append("<div class=\"table\">\n");
        if (m.Title is not null) html.Append("<h3>").Append(Encode(m.Title)).Append("</h3>\n");
        html.Append("<table class=\"confusion\">\n<thead><tr><th>actual ╲ predicted</th><th>positive</th><th>negative</th></tr></thead>\n<tbody>\n")
            .Append("<tr><th>positive</th>").Append(Cell(m.TruePositives, positives, "hit")).Append(Cell(m.FalseNegatives, positives, "miss")).Append("</tr>\n")
            .Append("<tr><th>negative</th>").Append(Cell(m.FalsePositives, negatives, "miss")).Append(Cell(m.TrueNegatives, negatives, "hit")).Append("</tr>\n")
            .Append("</tbody>\n</table>\n<p class=\"note\">True positives ").Append(Count((long)m.TruePositives))
            .Append(", false positives ").Append(Count((long)m.FalsePositives)).Append(", true negatives ").Append(Count((long)m.TrueNegatives))
            .Append(", false negatives ").Append(Count((long)m.FalseNegatives)).Append(" on the holdout.</p>\n</div>\n");
    }

    static string Percent(double part, double total) =>
        total > 0 ? (part / total).ToString("0.0%", CultureInfo.InvariantCulture) : "—";

    static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    static string Encode(string text) => WebUtility.HtmlEncode(text);
}
