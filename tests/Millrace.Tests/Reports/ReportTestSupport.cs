using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Millrace.Engine;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Reports;

/// <summary>
/// A small sales lake (3 regions × 7 days, fixed numbers) and a report over it that uses every block kind, plus
/// helpers to run it for a date and read what it published.
/// </summary>
public static partial class ReportTestSupport
{
    public static readonly string[] Regions = ["north", "south", "east"];

    /// <summary><c>day, region, orders, revenue</c> for 2026-01-01 … 2026-01-07; the numbers follow a fixed formula.</summary>
    public static string SalesCsv()
    {
        var csv = new StringBuilder("day,region,orders,revenue\n");
        for (var d = 0; d < 7; d++)
            for (var r = 0; r < Regions.Length; r++)
            {
                var orders = 10 + d * (r + 1) + r * 5;
                csv.Append(CultureInfo.InvariantCulture, $"2026-01-{d + 1:00},{Regions[r]},{orders},{orders * (12.5 + r * 2.25):0.00}\n");
            }
        return csv.ToString();
    }

    /// <summary>The sales report: KPIs, text with parameters, line/bar/scatter/histogram charts and a table.</summary>
    public const string SalesWorkflow = """
        name: daily
        parameters:
          focus: { default: north }
        steps:
          - id: sales
            type: read
            path: raw/sales.csv
          - id: sales_report
            type: report
            inputs: [sales]
            title: Sales on ${run.date}
            name: sales
            sections:
              - title: Headline
                blocks:
                  - kpi: { label: Orders, sql: "SELECT sum(orders) FROM sales WHERE day = ${run.date}" }
                  - kpi: { label: Revenue, sql: "SELECT sum(revenue) FROM sales WHERE day = ${run.date}", format: currency }
                  - kpi: { label: Share of $focus, sql: "SELECT sum(orders) FILTER (WHERE region = $focus) / sum(orders) FROM sales WHERE day = ${run.date}", format: percent, better: lower }
                  - text: |
                      Figures for **${focus}** on ${run.date}, from `sales` <all regions>.

                      - orders are counted per day
                      - revenue is in *dollars*
              - title: Trends
                blocks:
                  - chart:
                      type: line
                      title: Revenue and orders per day
                      sql: SELECT day, sum(revenue) AS revenue, sum(orders) AS orders FROM sales WHERE day <= ${run.date} GROUP BY day ORDER BY day
                      x: day
                      y: [revenue, orders]
                      y_label: per day
                  - chart: { type: bar, title: Revenue by region, sql: "SELECT region, sum(revenue) AS revenue FROM sales GROUP BY region ORDER BY region", x: region, y: revenue }
                  - chart: { type: scatter, title: Orders against revenue, sql: "SELECT orders, revenue FROM sales ORDER BY orders, revenue", x: orders, y: revenue }
                  - chart: { type: histogram, title: Revenue per row, sql: "SELECT revenue FROM sales", x: revenue, bins: 5 }
              - title: Detail
                blocks:
                  - table: { title: Sales by region, sql: "SELECT region, sum(orders) AS orders, round(sum(revenue), 2) AS revenue, min(day) AS first_day FROM sales GROUP BY region ORDER BY revenue DESC", limit: 2 }
                  - table: { sql: "SELECT day, region, orders FROM sales WHERE day = ${run.date} ORDER BY region" }
        """;

    /// <summary>A project with the sales lake and workflow.</summary>
    public static TestProject SalesProject()
    {
        var project = new TestProject();
        project.LakeFile("raw/sales.csv", SalesCsv());
        project.Workflow("daily", SalesWorkflow);
        return project;
    }

    /// <summary>Runs <paramref name="target"/> for <paramref name="date"/>; fails the test unless it succeeded.</summary>
    public static async Task<Run> RunForDateAsync(this TestProject project, string target, string date, params (string Name, string Value)[] variables)
    {
        var run = await project.RunAsync(new RunRequest(target, [new("run.date", date), .. variables.Select(v => new KeyValuePair<string, string>(v.Name, v.Value))]));
        Assert.True(run.Status == RunStatus.Succeeded, $"run of '{target}' for {date} {run.Status}: {run.Error}");
        return run;
    }

    /// <summary>A published report file's text: <c>reports/&lt;name&gt;/&lt;date&gt;/&lt;file&gt;</c>.</summary>
    public static string ReportFile(this TestProject project, string name, string date, string file = "index.html") =>
        File.ReadAllText(project.LakePath($"reports/{name}/{date}/{file}"));

    /// <summary>The inline SVG charts of a page, in order.</summary>
    public static IReadOnlyList<string> Charts(string html) => SvgElement().Matches(html).Select(m => m.Value).ToList();

    /// <summary>The text content of each &lt;text&gt; element of an SVG, trimmed and decoded.</summary>
    public static IReadOnlyList<string> Texts(string svg) =>
        TextElement().Matches(svg).Select(m => System.Net.WebUtility.HtmlDecode(m.Groups[1].Value.Trim())).ToList();

    /// <summary>How many elements of each SVG element name the chart has.</summary>
    public static IReadOnlyDictionary<string, int> ElementCounts(string svg) =>
        OpeningTag().Matches(svg).GroupBy(m => m.Groups[1].Value).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>
    /// The page with each inline SVG replaced by its structure (viewBox, element counts, texts): stable against font
    /// metrics differing in the last decimals between machines, while still pinning what each chart shows.
    /// </summary>
    public static string WithChartStructure(string html) => SvgElement().Replace(html, m =>
    {
        var svg = m.Value;
        var open = SvgOpen().Match(svg).Value;
        var counts = ElementCounts(svg).Where(c => c.Key != "svg").OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}");
        return $"{open}\n<!-- elements: {string.Join(" ", counts)} -->\n<!-- texts: {string.Join(" | ", Texts(svg))} -->\n</svg>";
    });

    /// <summary>
    /// Compares <paramref name="actual"/> with golden file <paramref name="name"/> (tests/Millrace.Tests/Reports/Golden/);
    /// with MILLRACE_UPDATE_GOLDEN=1 it rewrites the golden file instead.
    /// </summary>
    public static void AssertGolden(string name, string actual)
    {
        actual = actual.ReplaceLineEndings("\n");
        if (Environment.GetEnvironmentVariable("MILLRACE_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(SourceDirectory(), "Golden", name), actual);
            return;
        }
        var golden = Path.Combine(AppContext.BaseDirectory, "Reports", "Golden", name);
        Assert.True(File.Exists(golden), $"golden file {golden} is missing; run the tests once with MILLRACE_UPDATE_GOLDEN=1 and review the new file");
        Assert.Equal(File.ReadAllText(golden).ReplaceLineEndings("\n"), actual);
    }

    static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    [GeneratedRegex(@"<svg\b.*?</svg>", RegexOptions.Singleline)]
    private static partial Regex SvgElement();

    [GeneratedRegex(@"<svg\b[^>]*>")]
    private static partial Regex SvgOpen();

    [GeneratedRegex(@"<text\b[^>]*>(.*?)</text>", RegexOptions.Singleline)]
    private static partial Regex TextElement();

    [GeneratedRegex(@"<([a-zA-Z][a-zA-Z0-9]*)\b")]
    private static partial Regex OpeningTag();
}
