using Millrace.Reports;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Reports;

/// <summary>Charts are inline SVG drawn by ScottPlot: each shows its series, its axis labels and tick labels as text.</summary>
public sealed class ReportChartTests : IAsyncLifetime
{
    readonly TestProject _project = ReportTestSupport.SalesProject();
    IReadOnlyList<string> _charts = [];

    public async Task InitializeAsync()
    {
        await _project.RunForDateAsync("daily", "2026-01-07");
        _charts = ReportTestSupport.Charts(_project.ReportFile("sales", "2026-01-07"));
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public void A_line_chart_draws_one_line_per_series_with_date_ticks_axis_labels_and_a_legend()
    {
        var line = _charts[0];
        var texts = ReportTestSupport.Texts(line);
        Assert.Contains("day", texts);          // x label: the x column
        Assert.Contains("per day", texts);      // y_label
        Assert.Contains("revenue", texts);      // legend entries: the series names
        Assert.Contains("orders", texts);
        Assert.Contains(texts, t => System.Text.RegularExpressions.Regex.IsMatch(t, "^2026-01-0[1-7]$")); // date ticks, ISO
        // Seven days, two series: a marker per point, and one per legend entry.
        Assert.Equal(7 * 2 + 2, ReportTestSupport.ElementCounts(line).GetValueOrDefault("ellipse"));
        Assert.Contains("stroke=\"#1F77B4\" stroke-width=\"2\"", line, StringComparison.Ordinal);
        Assert.Contains("stroke=\"#FF7F0E\" stroke-width=\"2\"", line, StringComparison.Ordinal);
        Assert.StartsWith("<svg class=\"chart\" role=\"img\" aria-label=\"Revenue and orders per day\" viewBox=\"0 0 800 360\"", line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bar_chart_names_each_category_on_its_axis()
    {
        var bar = _charts[1];
        var texts = ReportTestSupport.Texts(bar);
        Assert.Contains("north", texts);
        Assert.Contains("south", texts);
        Assert.Contains("east", texts);
        Assert.Contains("region", texts);
        Assert.Contains("revenue", texts);
        // One filled rectangle per region, in the first series color.
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(bar, "<path fill=\"#1F77B4\"").Count
            + System.Text.RegularExpressions.Regex.Matches(bar, "<rect fill=\"#1F77B4\"").Count);
    }

    [Fact]
    public void A_scatter_chart_draws_a_marker_per_row_and_no_line()
    {
        var scatter = _charts[2];
        // 21 rows, no legend (one series).
        Assert.Equal(21, ReportTestSupport.ElementCounts(scatter).GetValueOrDefault("ellipse"));
        Assert.DoesNotContain("stroke=\"#1F77B4\" stroke-width=\"2\"", scatter, StringComparison.Ordinal);
        Assert.Contains("orders", ReportTestSupport.Texts(scatter));
    }

    [Fact]
    public void A_histogram_counts_rows_per_bin()
    {
        var histogram = _charts[3];
        Assert.Contains("rows", ReportTestSupport.Texts(histogram));
        Assert.Equal(5, System.Text.RegularExpressions.Regex.Matches(histogram, "fill=\"#1F77B4\"").Count);
    }

    [Fact]
    public void Element_ids_are_unique_in_the_page_and_chart_text_uses_the_installed_font()
    {
        var html = _project.ReportFile("sales", "2026-01-07");
        var ids = System.Text.RegularExpressions.Regex.Matches(html, " id=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Matches("^chart[1-4]-[0-9]+$", id));
        Assert.All(System.Text.RegularExpressions.Regex.Matches(html, "font-family=\"([^\"]+)\"").Select(m => m.Groups[1].Value), f => Assert.Equal(ChartBuilder.FontFamily, f));
        Assert.DoesNotContain(", \"", string.Concat(_charts), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_chart_naming_a_missing_column_fails_with_the_columns_there_are()
    {
        _project.Workflow("bad", """
            name: bad
            steps:
              - id: sales
                type: read
                path: raw/sales.csv
              - id: r
                type: report
                inputs: [sales]
                sections:
                  - title: Trends
                    blocks:
                      - chart: { type: line, title: Per day, sql: "SELECT day, sum(orders) AS orders FROM sales GROUP BY day", x: day, y: revenue }
            """);
        var run = await _project.RunAsync(new Millrace.Engine.RunRequest("bad", [new("run.date", "2026-01-07")]));
        Assert.Equal(Millrace.Storage.RunStatus.Failed, run.Status);
        Assert.Contains("section 'Trends', chart 'Per day': column 'revenue' is not in the result (columns: day, orders)", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_chart_without_rows_says_so_instead_of_drawing_empty_axes()
    {
        _project.Workflow("empty", """
            name: empty
            steps:
              - id: sales
                type: read
                path: raw/sales.csv
              - id: r
                type: report
                inputs: [sales]
                sections:
                  - title: Nothing yet
                    blocks:
                      - chart: { type: line, title: Future, sql: "SELECT day, orders FROM sales WHERE day > ${run.date}" }
                      - chart: { type: histogram, title: Nulls, sql: "SELECT NULL::DOUBLE AS v FROM sales", x: v }
                      - chart: { type: line, title: Gaps, sql: "SELECT day, NULL::DOUBLE AS a, orders AS b FROM sales WHERE region = 'north' ORDER BY day", x: day, y: [a, b] }
            """);
        await _project.RunForDateAsync("empty", "2026-01-07");
        var html = _project.ReportFile("r", "2026-01-07");
        Assert.Contains("<figcaption>Future</figcaption>\n<p class=\"note\">No rows to draw.</p>", html, StringComparison.Ordinal);
        Assert.Contains("<figcaption>Nulls</figcaption>\n<p class=\"note\">No values of &#39;v&#39; to draw.</p>", html, StringComparison.Ordinal);
        var gaps = Assert.Single(ReportTestSupport.Charts(html));
        Assert.Contains("b", ReportTestSupport.Texts(gaps));
    }

    [Fact]
    public async Task A_histogram_whose_minimum_has_no_exact_decimal_literal_counts_it_in_the_first_bin()
    {
        // 0.10126645117998123 written as a bare literal becomes a DECIMAL whose cast to DOUBLE is one unit in the last
        // place larger: the minimum then fell before the first bin (found by the daily benchmark on churn probabilities).
        _project.Workflow("edge", """
            name: edge
            steps:
              - id: sales
                type: read
                path: raw/sales.csv
              - id: r
                type: report
                inputs: [sales]
                name: edge
                sections:
                  - title: Values
                    blocks:
                      - chart: { type: histogram, title: Edge, sql: "SELECT unnest([CAST('0.10126645117998123' AS DOUBLE), 0.5, 0.9]) AS v", x: v, bins: 4 }
            """);
        var run = await _project.RunForDateAsync("edge", "2026-01-07");
        Assert.Equal(Millrace.Storage.RunStatus.Succeeded, run.Status);
        var chart = Assert.Single(ReportTestSupport.Charts(_project.ReportFile("edge", "2026-01-07")));
        Assert.Contains("rows", ReportTestSupport.Texts(chart));
    }

    [Theory]
    [InlineData(98)]  // the longest span with day ticks: 7 steps of 14 days
    [InlineData(99)]  // one day more (the daily benchmark's trend chart on its 120th day) gets automatic date ticks
    [InlineData(112)]
    public void A_daily_date_axis_of_any_span_draws(int span)
    {
        var first = new DateTime(2026, 1, 1).ToOADate();
        var x = Enumerable.Range(0, span + 1).Select(d => first + d).ToList();
        var data = new ChartData(ChartAxisKind.Date, x, [], [new ChartSeries("p", x.Select(d => d % 7 / 10.0).ToList())]);

        var svg = ChartBuilder.Render(new ChartOptions(ChartType.Line), data, "x");

        Assert.Contains(ReportTestSupport.Texts(svg), t => t.StartsWith("2026-", StringComparison.Ordinal));
    }

    [Fact]
    public void The_renderer_is_deterministic_and_scales_to_the_page()
    {
        var data = new ChartData(ChartAxisKind.Category, [0, 1], ["a & b", "<c>"], [new ChartSeries("n", [1, 2])]);
        var first = ChartBuilder.Render(new ChartOptions(ChartType.Bar), data, "x");
        var second = ChartBuilder.Render(new ChartOptions(ChartType.Bar), data, "x");
        Assert.Equal(first, second);
        Assert.Contains("viewBox=\"0 0 800 360\"", first, StringComparison.Ordinal);
        Assert.Equal(["a & b", "<c>"], ReportTestSupport.Texts(first).Where(t => t is "a & b" or "<c>").ToList());
        Assert.DoesNotContain("<c>", first.Replace("<clipPath", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }
}
