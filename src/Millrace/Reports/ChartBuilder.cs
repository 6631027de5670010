using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Millrace.Engine;
using ScottPlot;

namespace Millrace.Reports;

/// <summary>What the x values of a chart are: numbers, dates (OLE automation days) or category positions 0..n-1.</summary>
public enum ChartAxisKind { Numeric, Date, Category }

/// <summary>One named series of y values, aligned with <see cref="ChartData.X"/>; NaN is a missing value.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double> Values);

/// <summary>
/// The data of a chart: x values (for <see cref="ChartAxisKind.Category"/>, positions 0..n-1 named by
/// <see cref="Categories"/>) and the series drawn against them.
/// </summary>
public sealed record ChartData(ChartAxisKind XKind, IReadOnlyList<double> X, IReadOnlyList<string> Categories, IReadOnlyList<ChartSeries> Series);

/// <summary>A straight line drawn over a chart (a threshold, the diagonal of a ROC curve), with its legend text.</summary>
public sealed record ReferenceLine(double X1, double Y1, double X2, double Y2, string Label);

/// <summary>How to draw a chart. Bars are vertical unless <see cref="Horizontal"/>; <see cref="BarWidth"/> overrides the grouped width (histograms).</summary>
public sealed record ChartOptions(ChartType Type)
{
    public string? XLabel { get; init; }
    public string? YLabel { get; init; }
    /// <summary>Text for screen readers (the chart's title).</summary>
    public string? Description { get; init; }
    public bool Horizontal { get; init; }
    public double? BarWidth { get; init; }
    public (double Min, double Max)? XLimits { get; init; }
    public (double Min, double Max)? YLimits { get; init; }
    public IReadOnlyList<ReferenceLine> ReferenceLines { get; init; } = [];
    public int Width { get; init; } = 800;
    public int Height { get; init; } = 360;
}

/// <summary>
/// Draws charts with ScottPlot as SVG to inline in a report page. Text is drawn in DejaVu Sans (Debian's
/// fonts-dejavu-core): without an installed font ScottPlot draws no text at all, so a missing font is an error
/// rather than a chart without labels. The SVG is normalized to be byte-stable for the same data and embeddable
/// several times in one page: element ids are renumbered under a per-chart prefix, and the XML declaration and
/// namespace URIs (which an HTML page does not need) are removed.
/// </summary>
public static partial class ChartBuilder
{
    /// <summary>The font every chart uses.</summary>
    public const string FontFamily = "DejaVu Sans";

    /// <summary>The colors of series 1, 2, … (Tableau 10, as ScottPlot's default palette).</summary>
    public static readonly IReadOnlyList<string> Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    static readonly Lock FontGate = new();
    static readonly Lock RenderGate = new();
    static bool _fontChecked;

    /// <summary>Renders <paramref name="data"/> as a chart; <paramref name="id"/> prefixes the SVG's element ids (unique per page).</summary>
    public static string Render(ChartOptions options, ChartData data, string id)
    {
        EnsureFont();
        // ScottPlot keeps process-wide state (font cache, id counter); charts are small, so one at a time is cheap.
        lock (RenderGate) return RenderLocked(options, data, id);
    }

    static string RenderLocked(ChartOptions options, ChartData data, string id)
    {
        var plot = new Plot();
        plot.Font.Set(FontFamily);
        var series = data.Series;
        switch (options.Type)
        {
            case ChartType.Line or ChartType.Scatter:
                for (var j = 0; j < series.Count; j++)
                {
                    var (xs, ys) = Points(data.X, series[j].Values);
                    if (xs.Length == 0) continue; // a series of NULLs draws nothing (ScottPlot cannot scale an empty one)
                    var scatter = options.Type == ChartType.Line ? plot.Add.Scatter(xs, ys, Color(j)) : plot.Add.ScatterPoints(xs, ys, Color(j));
                    if (options.Type == ChartType.Line)
                    {
                        scatter.LineWidth = 2;
                        scatter.MarkerSize = xs.Length <= 60 ? 5 : 0;
                    }
                    else scatter.MarkerSize = xs.Length <= 500 ? 6 : 3;
                    if (series.Count > 1 || options.ReferenceLines.Count > 0) scatter.LegendText = series[j].Name;
                }
                break;
            case ChartType.Bar or ChartType.Histogram:
                AddBars(plot, options, data);
                break;
        }
        foreach (var line in options.ReferenceLines)
        {
            var drawn = plot.Add.Line(line.X1, line.Y1, line.X2, line.Y2);
            drawn.Color = new Color(0x70, 0x70, 0x70);
            drawn.LineWidth = 1.5f;
            drawn.LinePattern = LinePattern.Dashed;
            drawn.LegendText = line.Label;
        }

        switch (data.XKind)
        {
            case ChartAxisKind.Category:
                var labels = data.Categories.Select(c => c.Length > 28 ? c[..27] + "…" : c).ToArray();
                var positions = Enumerable.Range(0, labels.Length).Select(i => Position(options, data, i)).ToArray();
                var ticks = new ScottPlot.TickGenerators.NumericManual(positions, labels);
                if (options.Horizontal) plot.Axes.Left.TickGenerator = ticks;
                else plot.Axes.Bottom.TickGenerator = ticks;
                if (!options.Horizontal && (labels.Length > 8 || labels.Any(l => l.Length > 12)))
                {
                    plot.Axes.Bottom.TickLabelStyle.Rotation = -40;
                    plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
                    plot.Axes.Bottom.MinimumSize = Math.Min(170, 14 + 6.2f * labels.Max(l => l.Length));
                }
                break;
            case ChartAxisKind.Date when DayTicks(data.X) is { } days:
                plot.Axes.Bottom.TickGenerator = days;
                break;
            case ChartAxisKind.Date:
                var dates = plot.Axes.DateTimeTicksBottom();
                if (dates.TickGenerator is ScottPlot.TickGenerators.DateTimeAutomatic automatic)
                    automatic.LabelFormatter = d => d.ToString(d.TimeOfDay == TimeSpan.Zero ? "yyyy-MM-dd" : "yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
                break;
        }
        // A numeric bottom axis (x, or the values of horizontal bars): short labels would otherwise get a tick every
        // few pixels across the width.
        if (data.XKind == ChartAxisKind.Numeric || options.Horizontal)
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { TickDensity = 0.4 };
        if (options.XLabel is not null) plot.XLabel(options.XLabel, 14);
        if (options.YLabel is not null) plot.YLabel(options.YLabel, 14);
        if (options.Type is ChartType.Bar or ChartType.Histogram)
        {
            if (options.Horizontal) plot.Axes.Margins(left: 0);
            else plot.Axes.Margins(bottom: 0);
        }
        if (options.XLimits is { } x) plot.Axes.SetLimitsX(x.Min, x.Max);
        if (options.YLimits is { } y) plot.Axes.SetLimitsY(y.Min, y.Max);
        // A legend only where there is something to tell apart: several series, or a reference line.
        if (series.Count > 1 || options.ReferenceLines.Count > 0)
        {
            plot.ShowLegend(Edge.Bottom);
            plot.Legend.Orientation = Orientation.Horizontal;
        }
        else plot.HideLegend();
        return Normalize(plot.GetSvgXml(options.Width, options.Height), id, options.Description);
    }

    static void AddBars(Plot plot, ChartOptions options, ChartData data)
    {
        var count = Math.Max(1, data.Series.Count);
        var group = options.BarWidth ?? 0.8;
        var width = group / count;
        var bars = new List<Bar>();
        for (var j = 0; j < data.Series.Count; j++)
        {
            for (var i = 0; i < data.X.Count; i++)
            {
                var value = data.Series[j].Values[i];
                if (double.IsNaN(value)) continue;
                bars.Add(new Bar
                {
                    Position = Position(options, data, i) - group / 2 + width * (j + 0.5),
                    Value = value,
                    Size = options.BarWidth is null ? width * 0.92 : width,
                    FillColor = Color(j),
                    LineWidth = options.Type == ChartType.Histogram ? 1 : 0,
                    LineColor = Colors.White,
                    Orientation = options.Horizontal ? Orientation.Horizontal : Orientation.Vertical,
                });
            }
            if (count > 1) plot.Legend.ManualItems.Add(new LegendItem { LabelText = data.Series[j].Name, FillColor = Color(j) });
        }
        var plottable = plot.Add.Bars(bars);
        plottable.Horizontal = options.Horizontal;
    }

    // Categories of a horizontal chart read top to bottom in their order.
    static double Position(ChartOptions options, ChartData data, int index) =>
        data.XKind == ChartAxisKind.Category && options.Horizontal ? data.X.Count - 1 - index : data.X[index];

    /// <summary>
    /// Ticks on whole days (every 1, 2, 3, 7 or 14 days, at most 8 labels, ISO dates) for daily data spanning up to
    /// 14 weeks (7 steps of 14 days); null for anything else, which gets ScottPlot's automatic date ticks.
    /// </summary>
    static readonly int[] TickSteps = [1, 2, 3, 7, 14];

    static ScottPlot.TickGenerators.NumericManual? DayTicks(IReadOnlyList<double> x)
    {
        var days = x.Where(double.IsFinite).ToList();
        if (days.Count == 0 || days.Any(d => d != Math.Floor(d))) return null;
        var (first, last) = (days.Min(), days.Max());
        var span = last - first;
        if (span > 14 * 7) return null;
        var step = TickSteps.First(s => span / s + 1 <= 8);
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (var day = first; day <= last; day += step)
            ticks.AddMajor(day, DateTime.FromOADate(day).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        return ticks;
    }

    static (double[] X, double[] Y) Points(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var xs = new List<double>(x.Count);
        var ys = new List<double>(x.Count);
        for (var i = 0; i < x.Count; i++)
        {
            if (double.IsNaN(x[i]) || double.IsNaN(y[i])) continue;
            xs.Add(x[i]);
            ys.Add(y[i]);
        }
        return (xs.ToArray(), ys.ToArray());
    }

    static Color Color(int series) => ScottPlot.Color.FromHex(Palette[series % Palette.Count]);

    static void EnsureFont()
    {
        lock (FontGate)
        {
            if (_fontChecked) return;
            // ScottPlot falls back to another typeface (or none) for a family it cannot find.
            if (Fonts.GetTypeface(FontFamily, false, false)?.FamilyName != FontFamily)
                throw new StepFailedException($"the font '{FontFamily}' is not installed, and charts would be drawn without any text; install it (Debian/Ubuntu: apt-get install fonts-dejavu-core) and run again");
            Fonts.Default = FontFamily;
            _fontChecked = true;
        }
    }

    /// <summary>
    /// Makes ScottPlot's SVG fit for inlining: renumbers element ids as <paramref name="id"/>-1, -2, … (ScottPlot
    /// numbers clip paths by a process-wide counter), drops the XML declaration and the namespace URIs, removes the
    /// trailing separator of glyph position lists, and adds a viewBox so the chart scales with the page.
    /// </summary>
    public static string Normalize(string svg, string id, string? description = null)
    {
        svg = XmlDeclaration().Replace(svg, "");
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match match in IdAttribute().Matches(svg))
            ids.TryAdd(match.Groups[1].Value, $"{id}-{ids.Count + 1}");
        svg = IdAttribute().Replace(svg, m => $" id=\"{ids[m.Groups[1].Value]}\"");
        svg = UrlReference().Replace(svg, m => ids.TryGetValue(m.Groups[1].Value, out var renamed) ? $"url(#{renamed})" : m.Value);
        svg = HrefReference().Replace(svg, m => ids.TryGetValue(m.Groups[2].Value, out var renamed) ? $"{m.Groups[1].Value}=\"#{renamed}\"" : m.Value);
        svg = TrailingListSeparator().Replace(svg, "$1\"");
        svg = svg.Replace(" xmlns=\"http://www.w3.org/2000/svg\"", "", StringComparison.Ordinal)
                 .Replace(" xmlns:xlink=\"http://www.w3.org/1999/xlink\"", "", StringComparison.Ordinal);
        svg = SvgOpening().Replace(svg, m =>
        {
            var label = description is null ? "" : $" aria-label=\"{WebUtility.HtmlEncode(description)}\"";
            return $"<svg class=\"chart\" role=\"img\"{label} viewBox=\"0 0 {m.Groups[1].Value} {m.Groups[2].Value}\" width=\"{m.Groups[1].Value}\" height=\"{m.Groups[2].Value}\">";
        }, 1);
        return svg.ReplaceLineEndings("\n").Trim();
    }

    /// <summary>Formats an axis or legend number the way a report shows it.</summary>
    internal static string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"<\?xml[^>]*\?>\s*")]
    private static partial Regex XmlDeclaration();

    [GeneratedRegex(@" id=""([^""]+)""")]
    private static partial Regex IdAttribute();

    [GeneratedRegex(@"url\(#([^)]+)\)")]
    private static partial Regex UrlReference();

    [GeneratedRegex(@"((?:xlink:)?href)=""#([^""]+)""")]
    private static partial Regex HrefReference();

    [GeneratedRegex(@"( [xy]=""[^""]*?),\s*""")]
    private static partial Regex TrailingListSeparator();

    [GeneratedRegex(@"<svg\b[^>]*?\bwidth=""(\d+)""[^>]*?\bheight=""(\d+)""[^>]*>")]
    private static partial Regex SvgOpening();
}
