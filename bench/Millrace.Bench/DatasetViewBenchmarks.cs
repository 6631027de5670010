using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using DuckDB.NET.Data;
using Millrace.Datasets;
using Millrace.Storage;

namespace Millrace.Bench;

/// <summary>
/// Micro-benchmark (BenchmarkDotNet): one query that filters a dataset on its partition column, over a version of
/// 30 or 180 daily Parquet files (6,000 rows each, like the churn sample's events). Three ways to read it: the view
/// Millrace built before issue 9 (every file, union_by_name, no partition pruning), the view it builds now
/// (<see cref="DatasetFiles.ReadSql"/>), and raw DuckDB's Hive-partitioned glob over the folder. The view is bound
/// at each query, so what the history costs shows up as the difference between 30 and 180 files.
/// </summary>
[MemoryDiagnoser(false)]
public class DatasetViewBenchmarks
{
    string _folder = "";
    DuckDBConnection _connection = null!;

    [Params(30, 180)]
    public int Files { get; set; }

    /// <summary>The BenchmarkDotNet configuration: in process (no second build), short runs, fit for a shared machine.</summary>
    public static IConfig Config() => DefaultConfig.Instance
        .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithStrategy(RunStrategy.Throughput)
            .WithWarmupCount(3).WithIterationCount(15).WithLaunchCount(1))
        .WithOptions(ConfigOptions.DisableOptimizationsValidator);

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), "millrace-bench", $"views-{Files}-{Guid.NewGuid().ToString("N")[..8]}");
        var files = new List<string>();
        _connection = new DuckDBConnection("DataSource=:memory:");
        _connection.Open();
        for (var d = 0; d < Files; d++)
        {
            var date = new DateOnly(2026, 1, 1).AddDays(d).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var relative = $"datasets/events/event_date={date}/part-1.parquet";
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(_folder, relative))!);
            Execute($"COPY (SELECT i AS event_id, i % 2000 AS customer_id, DATE '{date}' AS event_date, (i % 7) * 1.5 AS amount FROM range({d * 6000}, {d * 6000 + 6000}) r(i)) TO '{Path.Combine(_folder, relative)}' (FORMAT parquet, COMPRESSION zstd)");
            files.Add(relative);
        }
        var version = new DatasetVersion
        {
            Dataset = "events", Version = 1, RunId = "bench", Workflow = "bench", StepId = "bench", CreatedAt = DateTimeOffset.UnixEpoch, Rows = Files * 6000L,
            Files = files, Operation = "write",
            Schema = [new ColumnSchema("event_id", "BIGINT"), new ColumnSchema("customer_id", "BIGINT"), new ColumnSchema("event_date", "DATE"), new ColumnSchema("amount", "DOUBLE")],
        };
        var list = "[" + string.Join(", ", files.Select(f => $"'{Path.Combine(_folder, f)}'")) + "]";
        Execute($"CREATE VIEW before_issue_9 AS SELECT * FROM read_parquet({list}, union_by_name = true, hive_partitioning = false)");
        Execute($"CREATE VIEW millrace AS {DatasetFiles.ReadSql(version, f => Path.Combine(_folder, f))}");
        Execute($"CREATE VIEW raw_glob AS SELECT * FROM read_parquet('{Path.Combine(_folder, "datasets", "events")}/*/*.parquet', hive_partitioning = true)");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _connection.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    [Benchmark(Baseline = true, Description = "view before issue 9")]
    public object? BeforeIssue9() => Query("before_issue_9");

    [Benchmark(Description = "view now (DatasetFiles.ReadSql)")]
    public object? Millrace() => Query("millrace");

    [Benchmark(Description = "raw DuckDB hive glob")]
    public object? RawGlob() => Query("raw_glob");

    object? Query(string view)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT count(*), sum(amount) FROM {view} WHERE event_date > DATE '2026-01-15' - INTERVAL 14 DAY AND event_date <= DATE '2026-01-15'";
        return command.ExecuteScalar();
    }

    /// <summary>Adds the micro-benchmark's medians to the summary table.</summary>
    public static void Report(BenchmarkDotNet.Reports.Summary summary)
    {
        double Median(string method, int files) => summary.Reports
            .Where(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method && (int)r.BenchmarkCase.Parameters["Files"] == files)
            .Select(r => r.ResultStatistics?.Median / 1e6 ?? double.NaN).DefaultIfEmpty(double.NaN).First();
        const string Command = "./millrace bench micro";
        foreach (var (method, label) in new[] { (nameof(Millrace), "view now"), (nameof(BeforeIssue9), "view before issue 9"), (nameof(RawGlob), "raw DuckDB hive glob") })
            BenchResults.Add(new BenchFigure("micro", $"query filtered on the partition column (14 days), {label}: 180 vs 30 daily files",
                $"{Median(method, 180):0.00} ms at 180", $"{Median(method, 30):0.00} ms at 30", Median(method, 180) / Median(method, 30),
                TargetKind.None, 0, Command));
        BenchResults.Add(new BenchFigure("micro", "the same query over 180 daily files: view now vs view before issue 9",
            $"{Median(nameof(Millrace), 180):0.00} ms", $"{Median(nameof(BeforeIssue9), 180):0.00} ms", Median(nameof(Millrace), 180) / Median(nameof(BeforeIssue9), 180), TargetKind.None, 0, Command));
        BenchResults.Add(new BenchFigure("micro", "the same query over 180 daily files: view now vs raw DuckDB hive glob",
            $"{Median(nameof(Millrace), 180):0.00} ms", $"{Median(nameof(RawGlob), 180):0.00} ms", Median(nameof(Millrace), 180) / Median(nameof(RawGlob), 180), TargetKind.None, 0, Command));
    }

    void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
