using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Reports;

/// <summary>A table block shows its first rows in the page and publishes every row of its SQL as CSV.</summary>
public sealed class ReportTableTests
{
    [Fact]
    public async Task The_csv_equals_the_sql_result_and_the_page_shows_the_first_rows()
    {
        await using var project = ReportTestSupport.SalesProject();
        var run = await project.RunForDateAsync("daily", "2026-01-07");

        var csv = project.LakePath("reports/sales/2026-01-07/sales_by_region.csv");
        var sales = project.LakePath("raw/sales.csv");
        var published = TestProject.Query($"SELECT * FROM read_csv('{csv}')");
        var expected = TestProject.Query($"""
            SELECT region, sum(orders) AS orders, round(sum(revenue), 2) AS revenue, min(day) AS first_day
            FROM read_csv('{sales}') GROUP BY region ORDER BY revenue DESC
            """);
        Assert.Equal(3, published.Count);
        Assert.Equal(expected.Select(r => string.Join('|', r)), published.Select(r => string.Join('|', r)));
        Assert.Equal("region,orders,revenue,first_day", File.ReadLines(csv).First());

        // limit: 2 keeps two rows in the page and says where the rest is.
        var html = project.ReportFile("sales", "2026-01-07");
        Assert.Contains("First 2 of 3 rows · all rows in <a href=\"sales_by_region.csv\">sales_by_region.csv</a>", html, StringComparison.Ordinal);
        Assert.Contains("<td>east</td><td class=\"num\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<td>north</td><td class=\"num\">84</td>", html, StringComparison.Ordinal);

        // A table without a title or name gets table_<n>.csv; every file is listed in the step's details.
        Assert.Equal(["reports/sales/2026-01-07/index.html", "reports/sales/2026-01-07/kpis.json", "reports/sales/2026-01-07/sales_by_region.csv", "reports/sales/2026-01-07/table_2.csv"],
            (await project.StepDetailsAsync(run.Id, "sales_report")).GetProperty("files").EnumerateArray().Select(f => f.GetString()).ToList());
        Assert.Equal(["day,region,orders", "2026-01-07,east,38", "2026-01-07,north,16", "2026-01-07,south,27"],
            File.ReadAllLines(project.LakePath("reports/sales/2026-01-07/table_2.csv")));
    }
}
