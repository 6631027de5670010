using Millrace.Engine;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Reports;

/// <summary>A report that fails publishes nothing, and says which section and block failed.</summary>
public sealed class ReportFailureTests
{
    [Fact]
    public async Task Bad_sql_fails_the_step_names_the_block_and_publishes_nothing()
    {
        await using var project = ReportTestSupport.SalesProject();
        project.Workflow("daily", ReportTestSupport.SalesWorkflow.Replace(
            "SELECT day, region, orders FROM sales WHERE day = ${run.date} ORDER BY region", "SELECT day, region, nonsense FROM sales", StringComparison.Ordinal));

        var run = await project.RunAsync(new RunRequest("daily", [new("run.date", "2026-01-07")]));

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.StartsWith("step 'sales_report': section 'Detail', table 'table_2': SQL failed: Binder Error", run.Error, StringComparison.Ordinal);
        Assert.Contains("nonsense", run.Error, StringComparison.Ordinal);
        Assert.Empty(project.FilesUnder("lake/reports"));
        Assert.Empty(project.FilesUnder("lake/_staging"));
        Assert.Empty(await (await project.StoreAsync()).GetUnpublishedFilesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_later_failing_step_of_the_workflow_publishes_nothing_either()
    {
        await using var project = ReportTestSupport.SalesProject();
        project.Workflow("daily", ReportTestSupport.SalesWorkflow + """

              - id: after
                type: sql
                inputs: [sales_report]
                sql: SELECT error('boom') FROM sales_report
            """);

        var run = await project.RunAsync(new RunRequest("daily", [new("run.date", "2026-01-07")]));

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal(RunStatus.Succeeded, (await project.StepRunAsync(run.Id, "sales_report")).Status);
        Assert.Empty(project.FilesUnder("lake/reports"));
        Assert.Empty(project.FilesUnder("lake/_staging"));
    }

    [Fact]
    public void Definition_errors_name_the_line_and_column()
    {
        using var project = new TestProjectHandle();
        project.Project.Workflow("w", """
            name: w
            steps:
              - id: r
                type: report
                name: a/b
                sections:
                  - title: S
                    blocks:
                      - kpi: { label: K }
                      - chart: { type: pie, sql: SELECT 1 }
                      - table: { sql: SELECT 1, limit: 0 }
                      - graph: { sql: SELECT 1 }
                      - text: { not: text }
                      - chart: { type: line, sql: SELECT 1, bins: 3, colour: red }
            """);
        var errors = project.Project.Check().Select(e => e.ToString()).ToList();
        Assert.Contains(errors, e => e.Contains("w.yaml:5:11", StringComparison.Ordinal) && e.Contains("report name 'a/b'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("w.yaml:9:18", StringComparison.Ordinal) && e.Contains("missing required field 'sql'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("chart type must be line, bar, scatter or histogram, got 'pie'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("field 'limit' must be at least 1", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("w.yaml:12:13", StringComparison.Ordinal) && e.Contains("unknown block 'graph' (known: kpi, chart, table, text)", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("a text block is a string", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'bins' applies to histogram charts only", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("unknown field 'colour' in a chart block", StringComparison.Ordinal));
    }

    /// <summary>A project disposed synchronously (Check needs no store).</summary>
    sealed class TestProjectHandle : IDisposable
    {
        public TestProject Project { get; } = new();
        public void Dispose() => Project.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
