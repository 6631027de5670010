using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Storage;

namespace Millrace.Bench;

/// <summary>
/// read + sql + write of N rows through a Millrace workflow (CSV in the lake → aggregate → a versioned Parquet
/// dataset, with the run recorded), beside the same SQL in raw DuckDB.NET (read_csv → aggregate → COPY to Parquet).
/// </summary>
public static class PipelineScenario
{
    public static async Task RunAsync(int rows, int repeats, string output, TextWriter log)
    {
        var root = Path.Combine(Path.GetTempPath(), "millrace-bench", "pipeline-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(root, "lake", "raw"));
        Directory.CreateDirectory(Path.Combine(root, "workflows"));
        var csv = Path.Combine(root, "lake", "raw", "sales.csv");
        log.WriteLine($"read + sql + write benchmark: {rows:N0} rows, project in {root}");
        using (var connection = new DuckDBConnection("DataSource=:memory:"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                SELECT setseed(0.1);
                COPY (SELECT i AS order_id, ['north','south','east','west'][1 + (i % 4)::INTEGER] AS region, (i % 1000) AS customer_id,
                             round(random() * 500, 2) AS amount, DATE '2026-01-01' + (i % 365)::INTEGER AS day
                      FROM range({rows}) t(i)) TO '{csv}' (FORMAT csv, HEADER true);
                """;
            command.ExecuteNonQuery();
        }
        const string Sql = "SELECT region, customer_id, count(*) AS orders, sum(amount) AS revenue, max(day) AS last_day FROM sales GROUP BY ALL";
        await File.WriteAllTextAsync(Path.Combine(root, "millrace.yaml"), "id: bench\n");
        await File.WriteAllTextAsync(Path.Combine(root, "workflows", "sales.yaml"), $"""
            steps:
              - id: sales
                type: read
                path: raw/sales.csv
                schema: {"{"} order_id: BIGINT, region: VARCHAR, customer_id: BIGINT, amount: DOUBLE, day: DATE {"}"}
              - id: summary
                type: sql
                inputs: [sales]
                sql: {Sql}
              - id: store
                type: write
                input: summary
                dataset: customer_revenue
            """);
        var project = Project.Open(root);
        await using var store = await MetadataStores.OpenAsync(project, CancellationToken.None);
        var runner = new Runner(project, store);

        var millrace = new List<double>();
        var raw = new List<double>();
        // One untimed run of each side first: the first workflow of a process pays for JIT and opening the store.
        await MillraceAsync();
        Raw(-1);
        for (var round = 0; round < repeats; round++)
        {
            // Alternate which side goes first: the second one finds the CSV in the page cache either way.
            for (var turn = 0; turn < 2; turn++)
            {
                if ((round + turn) % 2 == 0) millrace.Add(await MillraceAsync());
                else raw.Add(Raw(round));
            }
        }

        async Task<double> MillraceAsync()
        {
            var clock = Stopwatch.StartNew();
            var run = await runner.RunAsync(new RunRequest("sales", []));
            if (run.Status != RunStatus.Succeeded) throw new InvalidOperationException(run.Error);
            return clock.Elapsed.TotalSeconds;
        }

        double Raw(int round)
        {
            var clock = Stopwatch.StartNew();
            using var connection = new DuckDBConnection("DataSource=:memory:");
            connection.Open();
            using var command = connection.CreateCommand();
            var target = Path.Combine(root, $"raw-{round}.parquet");
            command.CommandText = $"""
                CREATE TABLE sales AS SELECT * FROM read_csv('{csv}', header = true,
                    columns = {"{"}'order_id': 'BIGINT', 'region': 'VARCHAR', 'customer_id': 'BIGINT', 'amount': 'DOUBLE', 'day': 'DATE'{"}"});
                COPY ({Sql}) TO '{target}' (FORMAT parquet, COMPRESSION zstd);
                """;
            command.ExecuteNonQuery();
            return clock.Elapsed.TotalSeconds;
        }
        var m = BenchResults.Median(millrace);
        var r = BenchResults.Median(raw);
        log.WriteLine();
        log.WriteLine("| what | Millrace | raw DuckDB.NET | ratio (Millrace / raw) | target |");
        log.WriteLine("| --- | ---: | ---: | ---: | --- |");
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| read CSV + sql + write Parquet, {rows:N0} rows (median of {repeats}) | {m:0.00} s | {r:0.00} s | {m / r:0.00} | <= 1.10 |"));
        BenchResults.Add(new BenchFigure("pipeline", $"read CSV + sql (group by) + write Parquet dataset, {rows:N0} rows, median of {repeats}",
            $"{m:0.00} s", $"{r:0.00} s", m / r, TargetKind.AtMost, 1.10, $"./millrace bench pipeline --rows {rows} --repeats {repeats}"));
        await File.WriteAllLinesAsync(Path.Combine(output, "pipeline.csv"), ["rows,millrace_seconds,raw_seconds", string.Create(CultureInfo.InvariantCulture, $"{rows},{m:0.000},{r:0.000}")]);
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
    }
}
