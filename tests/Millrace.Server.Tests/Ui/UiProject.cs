using Millrace.Engine;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests.Ui;

/// <summary>
/// The project the UI tests serve, on real steps: a daily pipeline (ingest customers into a dataset, check them,
/// publish a report with a KPI, a bar chart and a table) on a schedule, and a training pipeline whose two runs
/// register two versions of a model. <see cref="SeedAsync"/> runs them so every page has something to show.
/// </summary>
public static class UiProject
{
    public const string Id = "uishop";
    public const string Daily = "daily";
    public const string Training = "training";
    public const string Model = "scorer";
    public const string Report = "customers_by_region";
    /// <summary>A pipeline whose description is markup, to check that pages encode it.</summary>
    public const string Tricky = "tricky";

    public static ProjectFolder Create()
    {
        var rows = string.Join("\n", Enumerable.Range(0, 400).Select(i => $"{i},{(i % 100) / 100.0:0.00},{(i % 3 == 0 ? "a" : "b")}"));
        return new ProjectFolder(Id)
            .LakeFile("raw/customers.csv", "customer_id,region,score\n1,north,0.9\n2,north,0.7\n3,south,0.8\n4,north,0.1\n5,east,0.4\n")
            .LakeFile("raw/train.csv", "id,x,tag\n" + rows + "\n")
            .Workflow("ingest", """
                name: ingest
                description: Customers from the landing zone into the customers dataset.
                parameters:
                  region: { default: all, description: One region or all. }
                steps:
                  - { id: customers_raw, type: read, path: raw/customers.csv }
                  - id: selected
                    type: sql
                    inputs: [customers_raw]
                    sql: SELECT * FROM customers_raw WHERE $region = 'all' OR region = $region
                  - id: quality
                    type: check
                    input: selected
                    expect: [ { rows: { min: 100 } } ]
                    on_failure: warn
                  - { id: store, type: write, input: quality, dataset: customers }
                """)
            .Workflow("insights", """
                name: insights
                steps:
                  - id: by_region
                    type: sql
                    inputs: [customers]
                    sql: SELECT region, count(*) AS customers, avg(score) AS mean_score FROM customers GROUP BY region ORDER BY region
                  - id: publish
                    type: report
                    name: customers_by_region
                    title: Customers by region
                    inputs: [by_region]
                    sections:
                      - title: Overview
                        blocks:
                          - kpi: { label: Customers, sql: "SELECT sum(customers) FROM by_region" }
                          - chart: { type: bar, title: Customers per region, sql: "SELECT region, customers FROM by_region", x: region, y: customers }
                          - table: { title: Regions, sql: "SELECT * FROM by_region", limit: 10 }
                """)
            .Workflow("train", """
                name: train
                parameters: { flip: { type: bool, default: false } }
                steps:
                  - { id: data, type: read, path: raw/train.csv }
                  - id: labelled
                    type: sql
                    inputs: [data]
                    sql: SELECT x, tag, (x > 0.5) <> $flip AS y FROM data
                  - id: model
                    type: train
                    input: labelled
                    model: scorer
                    task: binary
                    label: y
                    algorithm: logistic
                    promote: { metric: auc, min_improvement: 0.5 }
                """)
            .Pipeline(Daily, """
                name: daily
                description: Ingest the customers and publish the regional report.
                workflows: [ingest, insights]
                schedule: { cron: "0 6 * * *", timezone: UTC }
                concurrency: { max_active: 2, on_overlap: queue }
                """)
            .Pipeline(Training, """
                name: training
                workflows: [train]
                """)
            .Workflow("peek", """
                name: peek
                parameters:
                  region: { default: all }
                steps:
                  - { id: customers_raw, type: read, path: raw/customers.csv }
                  - id: selected
                    type: sql
                    inputs: [customers_raw]
                    sql: SELECT * FROM customers_raw WHERE region = $region
                """)
            .Pipeline(Tricky, """
                name: tricky
                description: "Looks <b>bold</b> & <script>alert('tricky')</script>"
                workflows: [peek]
                """);
    }

    /// <summary>Two daily runs (two report dates, a warning anomaly each) and two training runs (model versions v1 and v2, v1 champion).</summary>
    public static async Task SeedAsync(TestServer server)
    {
        var host = server.Host(Id);
        foreach (var date in new[] { "2026-01-01", "2026-01-02" })
        {
            var run = await host.Runner.RunAsync(new RunRequest(Daily, [new("run.date", date)]));
            if (run.Status != RunStatus.Succeeded) throw new InvalidOperationException($"seeding: the daily run for {date} ended {run.Status}: {run.Error}");
        }
        foreach (var flip in new[] { "false", "true" })
        {
            var run = await host.Runner.RunAsync(new RunRequest(Training, [new("flip", flip)]));
            if (run.Status != RunStatus.Succeeded) throw new InvalidOperationException($"seeding: the training run ended {run.Status}: {run.Error}");
        }
        // Whatever the gate decided, start from v1 as champion.
        await new Learning.ModelRegistry(host.Store, new Lake.LakeRoot(host.Definition.LakeRoot))
            .PromoteAsync(Model, 1, "champion", "test", "start from v1", CancellationToken.None);
    }
}
