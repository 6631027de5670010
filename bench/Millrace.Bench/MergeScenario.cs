using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Storage;

namespace Millrace.Bench;

/// <summary>
/// The merge of one day into histories of 30, 90 and 180 days (<see cref="ScaleLake"/> events, partitioned by
/// event date), through a Millrace workflow (read the day's drop, merge by event_id into a versioned dataset, commit)
/// beside the same merge written by hand in raw DuckDB.NET on a Hive-partitioned Parquet folder (read the drop,
/// rewrite only the partitions it touches: kept rows plus the batch's newest rows, one file per partition).
/// The histories are loaded in bulk (not timed); then the next days are merged, round robin over the histories and
/// alternating Millrace and raw, so load from other processes falls on all of them alike.
/// </summary>
public static class MergeScenario
{
    static readonly int[] Histories = [30, 90, 180];

    public static async Task RunAsync(long rows, int repeats, string output, TextWriter log)
    {
        var root = Path.Combine(Path.GetTempPath(), "millrace-bench", "merge-" + Guid.NewGuid().ToString("N")[..8]);
        var rowsPerDay = rows / 180;
        log.WriteLine($"merge benchmark: {rows:N0} rows over 180 days ({rowsPerDay:N0} a day + 2% re-delivered), histories {string.Join("/", Histories)} days, {repeats} days merged each, in {root}");
        var lake = Path.Combine(root, "shared-lake");
        var clock = Stopwatch.StartNew();
        ScaleLake.Generate(lake, rowsPerDay, 0, Histories.Max() + repeats);
        log.WriteLine($"  lake generated in {clock.Elapsed.TotalSeconds:0.0} s");

        var sides = new List<(int History, Runner Runner, IAsyncDisposable Store, string RawHistory)>();
        foreach (var history in Histories)
        {
            clock.Restart();
            var project = Path.Combine(root, $"h{history}");
            Directory.CreateDirectory(Path.Combine(project, "workflows"));
            Directory.CreateDirectory(Path.Combine(project, "lake", "raw"));
            // The project's lake sees the shared drops through a symbolic link: the same files for every history.
            Directory.CreateSymbolicLink(Path.Combine(project, "lake", "raw", "events"), Path.Combine(lake, "raw", "events"));
            await File.WriteAllTextAsync(Path.Combine(project, "millrace.yaml"), "id: bench\n");
            await File.WriteAllTextAsync(Path.Combine(project, "workflows", "merge.yaml"), """
                parameters: { from: { type: date }, to: { type: date } }
                steps:
                  - id: batch
                    type: read
                    path: raw/events/dt=*/*.parquet
                    since: ${from}
                    until: ${to}
                  - id: events
                    type: merge
                    input: batch
                    into: events
                    key: [event_id]
                    order_by: updated_at
                    partition_by: [event_date]
                """);
            var opened = Project.Open(project);
            var store = await MetadataStores.OpenAsync(opened, CancellationToken.None);
            var runner = new Runner(opened, store);
            await MillraceMergeAsync(runner, 0, history - 1);
            var rawHistory = Path.Combine(root, $"raw-h{history}");
            RawLoad(lake, rawHistory, history - 1);
            sides.Add((history, runner, store, rawHistory));
            log.WriteLine($"  history of {history} days loaded in {clock.Elapsed.TotalSeconds:0.0} s");
        }

        var millrace = Histories.ToDictionary(h => h, _ => new List<double>());
        var raw = Histories.ToDictionary(h => h, _ => new List<double>());
        for (var k = 0; k < repeats; k++)
        {
            foreach (var (history, runner, _, rawHistory) in sides)
            {
                var day = history + k;
                // Alternate which side goes first, so neither always runs right after the other's writes.
                for (var turn = 0; turn < 2; turn++)
                {
                    if ((turn + k) % 2 == 0) millrace[history].Add(await MillraceMergeAsync(runner, day, day));
                    else raw[history].Add(RawMerge(lake, rawHistory, day));
                }
            }
        }
        foreach (var (_, _, store, _) in sides) await store.DisposeAsync();

        log.WriteLine();
        log.WriteLine("| history (days) | Millrace merge of one day (ms, median) | raw DuckDB.NET (ms, median) | ratio (Millrace / raw) |");
        log.WriteLine("| ---: | ---: | ---: | ---: |");
        foreach (var history in Histories)
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {history} | {BenchResults.Median(millrace[history]):0} | {BenchResults.Median(raw[history]):0} | {BenchResults.Median(millrace[history]) / BenchResults.Median(raw[history]):0.00} |"));
        double M(int h) => BenchResults.Median(millrace[h]);
        double R(int h) => BenchResults.Median(raw[h]);
        var command = $"./millrace bench merge --rows {rows} --repeats {repeats}";
        BenchResults.Add(new BenchFigure("merge", $"merge of one day ({rowsPerDay:N0} rows), 180 vs 30 days of history ({rows / 1e6:0.#}M-row lake), median of {repeats}",
            $"{M(180):0} ms at 180 d", $"{M(30):0} ms at 30 d", M(180) / M(30), TargetKind.AtMost, 1.20, command));
        BenchResults.Add(new BenchFigure("merge", $"the same, raw DuckDB.NET (hand-written partition rewrite), 180 vs 30 days",
            $"{R(180):0} ms at 180 d", $"{R(30):0} ms at 30 d", R(180) / R(30), TargetKind.None, 0, command));
        BenchResults.Add(new BenchFigure("merge", $"merge of one day into 180 days: Millrace (versioned, committed) vs raw DuckDB.NET",
            $"{M(180):0} ms", $"{R(180):0} ms", M(180) / R(180), TargetKind.None, 0, command));
        await File.WriteAllLinesAsync(Path.Combine(output, "merge.csv"), ["history_days,repeat,millrace_ms,raw_ms",
            .. Histories.SelectMany(h => millrace[h].Select((m, i) => string.Create(CultureInfo.InvariantCulture, $"{h},{i},{m:0.0},{raw[h][i]:0.0}")))]);
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }

        async Task<double> MillraceMergeAsync(Runner runner, int from, int to)
        {
            var run = await runner.RunAsync(new RunRequest("merge", [new("from", ScaleLake.Date(from)), new("to", ScaleLake.Date(to))]));
            if (run.Status != RunStatus.Succeeded) throw new InvalidOperationException($"merge of days {from}..{to}: {run.Error}");
            return (run.EndedAt - run.StartedAt)!.Value.TotalMilliseconds;
        }
    }

    /// <summary>The raw history: days 0..<paramref name="lastDay"/> deduplicated by key, Hive-partitioned by event date.</summary>
    static void RawLoad(string lake, string history, int lastDay)
    {
        var drops = Enumerable.Range(0, lastDay + 1).Select(d => Quote(Path.Combine(ScaleLake.DropFolder(lake, d), "*.parquet")));
        Execute($"""
            COPY (
              SELECT * EXCLUDE (dt) FROM read_parquet([{string.Join(", ", drops)}], hive_partitioning = true)
              QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY updated_at DESC) = 1
            ) TO {Quote(history)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (event_date), WRITE_PARTITION_COLUMNS true, FILENAME_PATTERN 'data');
            """);
    }

    /// <summary>
    /// The merge a developer writes by hand: the day's batch (newest row per key), the partitions it touches read
    /// and rewritten (rows the batch does not replace, plus the batch), each to a new file that replaces the old one.
    /// </summary>
    static double RawMerge(string lake, string history, int day)
    {
        var clock = Stopwatch.StartNew();
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        Execute(connection, $"""
            CREATE TEMP TABLE batch AS
            SELECT * EXCLUDE (dt) FROM read_parquet({Quote(Path.Combine(ScaleLake.DropFolder(lake, day), "*.parquet"))}, hive_partitioning = true)
            QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY updated_at DESC) = 1;
            """);
        var partitions = new List<string>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT DISTINCT CAST(event_date AS VARCHAR) FROM batch ORDER BY 1";
            using var reader = command.ExecuteReader();
            while (reader.Read()) partitions.Add(reader.GetString(0));
        }
        foreach (var partition in partitions)
        {
            var folder = Path.Combine(history, "event_date=" + partition);
            var file = Path.Combine(folder, "data.parquet");
            Directory.CreateDirectory(folder);
            Execute(connection, $"""
                CREATE OR REPLACE TEMP TABLE existing AS {(File.Exists(file) ? $"SELECT * FROM read_parquet({Quote(file)})" : "SELECT * FROM batch WHERE FALSE")};
                COPY (
                  SELECT * FROM existing e WHERE NOT EXISTS (SELECT 1 FROM batch b WHERE b.event_id = e.event_id AND b.updated_at >= e.updated_at)
                  UNION ALL BY NAME
                  SELECT * FROM batch b WHERE b.event_date = DATE {Quote(partition)}
                    AND NOT EXISTS (SELECT 1 FROM existing e WHERE e.event_id = b.event_id AND e.updated_at > b.updated_at)
                ) TO {Quote(file + ".new")} (FORMAT parquet, COMPRESSION zstd);
                """);
            File.Move(file + ".new", file, overwrite: true);
        }
        return clock.Elapsed.TotalMilliseconds;
    }

    static string Quote(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    static void Execute(string sql)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        Execute(connection, sql);
    }

    static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
