using Millrace.Reports;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Reports;

/// <summary>KPIs compare with the report's previous run: the latest earlier run date whose kpis.json is in the lake.</summary>
public sealed class ReportKpiChangeTests
{
    [Fact]
    public async Task Kpis_show_the_change_against_the_previous_run_of_the_report()
    {
        await using var project = ReportTestSupport.SalesProject();
        await project.RunForDateAsync("daily", "2026-01-03");
        var run = await project.RunForDateAsync("daily", "2026-01-04");

        var first = KpiHistory.Deserialize(project.ReportFile("sales", "2026-01-03", "kpis.json"))!;
        var second = KpiHistory.Deserialize(project.ReportFile("sales", "2026-01-04", "kpis.json"))!;
        Assert.Null(first.PreviousDate);
        Assert.All(first.Kpis, k => Assert.Null(k.Previous));
        Assert.Equal(new DateOnly(2026, 1, 3), second.PreviousDate);
        Assert.Equal(run.Id, second.RunId);

        // Orders per day: 10 + d*(r+1) + 5r summed over 3 regions = 45 + 6d; day 3 (d = 2) → 57, day 4 → 63.
        var orders = second.Kpis.Single(k => k.Label == "Orders");
        Assert.Equal((63.0, 57.0, 6.0), (orders.Value, orders.Previous, orders.Change));
        Assert.Equal(57.0, first.Kpis.Single(k => k.Label == "Orders").Value);

        // The step's output table and details hold the same figures.
        var details = await project.StepDetailsAsync(run.Id, "sales_report");
        Assert.Equal("reports/sales/2026-01-04/index.html", details.GetProperty("path").GetString());
        Assert.Equal("2026-01-03", details.GetProperty("previous_run_date").GetString());
        var kpi = details.GetProperty("kpis").EnumerateArray().First();
        Assert.Equal(("Orders", 63.0, 57.0, 6.0), (kpi.GetProperty("label").GetString(), kpi.GetProperty("value").GetDouble(), kpi.GetProperty("previous").GetDouble(), kpi.GetProperty("change").GetDouble()));
        Assert.Equal(3, (await project.StepRunAsync(run.Id, "sales_report")).Rows);

        var html = project.ReportFile("sales", "2026-01-04");
        Assert.Contains("<div class=\"change up good\" title=\"previous: 57\">▲ +6 (+10.5%) vs 2026-01-03</div>", html, StringComparison.Ordinal);
        // The share of north falls (north grows slowest); lower is better for it, so the arrow is down and good.
        Assert.Matches("<div class=\"change down good\"[^>]*>▼ −[0-9.]+ pp vs 2026-01-03</div>", html);
        Assert.Contains("no earlier value", project.ReportFile("sales", "2026-01-03"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_backfill_compares_with_the_latest_earlier_date_not_the_newest_run()
    {
        await using var project = ReportTestSupport.SalesProject();
        await project.RunForDateAsync("daily", "2026-01-02");
        await project.RunForDateAsync("daily", "2026-01-07");
        await project.RunForDateAsync("daily", "2026-01-05"); // late: a backfill of a day between the two

        var backfill = KpiHistory.Deserialize(project.ReportFile("sales", "2026-01-05", "kpis.json"))!;
        Assert.Equal(new DateOnly(2026, 1, 2), backfill.PreviousDate);
        Assert.Equal((69.0, 51.0), (backfill.Kpis[0].Value!.Value, backfill.Kpis[0].Previous!.Value));

        // Rerunning a date compares with the date before it, never with its own earlier publication.
        await project.RunForDateAsync("daily", "2026-01-07");
        Assert.Equal(new DateOnly(2026, 1, 5), KpiHistory.Deserialize(project.ReportFile("sales", "2026-01-07", "kpis.json"))!.PreviousDate);
    }

    [Fact]
    public async Task A_kpi_with_no_rows_is_empty_and_one_with_several_rows_fails_the_step()
    {
        await using var project = new TestProject();
        project.Workflow("k", """
            name: k
            steps:
              - id: r
                type: report
                sections:
                  - title: Figures
                    blocks:
                      - kpi: { label: Nothing, sql: "SELECT 1 WHERE false" }
            """);
        var run = await project.RunForDateAsync("k", "2026-02-01");
        Assert.Contains("<div class=\"value\">—</div>", project.ReportFile("r", "2026-02-01"), StringComparison.Ordinal);

        project.Workflow("k", """
            name: k
            steps:
              - id: r
                type: report
                sections:
                  - title: Figures
                    blocks:
                      - kpi: { label: Many, sql: "SELECT * FROM range(3)" }
            """);
        var failed = await project.RunAsync(new Millrace.Engine.RunRequest("k", [new("run.date", "2026-02-02")]));
        Assert.Equal(Millrace.Storage.RunStatus.Failed, failed.Status);
        Assert.Contains("section 'Figures', kpi 'Many': a KPI's SQL must return one value (one row), it returned 3 rows", failed.Error, StringComparison.Ordinal);
        Assert.NotEqual(run.Id, failed.Id);
    }
}
