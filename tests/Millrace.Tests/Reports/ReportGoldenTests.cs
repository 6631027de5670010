using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Reports;

/// <summary>
/// The sales report rendered from fixed data matches the golden page and CSV files, and renders to the same bytes
/// every time (charts included).
/// </summary>
public sealed class ReportGoldenTests
{
    [Fact]
    public async Task Report_page_and_table_csv_match_the_golden_files()
    {
        await using var project = ReportTestSupport.SalesProject();
        await project.RunForDateAsync("daily", "2026-01-06");
        await project.RunForDateAsync("daily", "2026-01-07");

        ReportTestSupport.AssertGolden("sales.html", ReportTestSupport.WithChartStructure(project.ReportFile("sales", "2026-01-07")));
        ReportTestSupport.AssertGolden("sales_by_region.csv", project.ReportFile("sales", "2026-01-07", "sales_by_region.csv"));
        ReportTestSupport.AssertGolden("sales_kpis.json", RunIdless(project.ReportFile("sales", "2026-01-07", "kpis.json")));
    }

    [Fact]
    public async Task The_same_data_renders_to_the_same_bytes_charts_included()
    {
        await using var first = ReportTestSupport.SalesProject();
        await using var second = ReportTestSupport.SalesProject();
        await first.RunForDateAsync("daily", "2026-01-07");
        // A different process-wide ScottPlot state between the two (clip path counters move on with every plot).
        await second.RunForDateAsync("daily", "2026-01-05");
        await second.RunForDateAsync("daily", "2026-01-07");

        var a = first.ReportFile("sales", "2026-01-07");
        var b = second.ReportFile("sales", "2026-01-07");
        // The second project had an earlier run, so only the KPI changes may differ: compare the charts byte for byte.
        Assert.Equal(4, ReportTestSupport.Charts(a).Count);
        Assert.Equal(ReportTestSupport.Charts(a), ReportTestSupport.Charts(b));
        Assert.Equal(a, first.ReportFile("sales", "2026-01-07"));
        Assert.Equal(first.ReportFile("sales", "2026-01-07", "sales_by_region.csv"), second.ReportFile("sales", "2026-01-07", "sales_by_region.csv"));
    }

    static string RunIdless(string json) =>
        System.Text.RegularExpressions.Regex.Replace(json, "\"run_id\": \"[^\"]*\"", "\"run_id\": \"(run id)\"");
}
