using System.Globalization;
using DuckDB.NET.Data;

namespace Millrace.Bench;

/// <summary>
/// A deterministic lake at scale, written by DuckDB SQL (no per-row .NET work): <c>raw/events/dt=YYYY-MM-DD/</c>, one
/// drop per day over <c>days</c> days, <c>rows / days</c> new events a day. From the second day on, each drop also
/// re-delivers every 50th event of the day before with a corrected amount and a later <c>updated_at</c>, so a merge
/// updates as well as inserts and touches two partitions. Values are functions of the day and the row number, so
/// the same arguments give the same files on any machine and thread count.
/// </summary>
public static class ScaleLake
{
    public static readonly DateOnly Start = new(2026, 1, 1);

    /// <summary>Writes the drops of days <paramref name="firstDay"/> to <paramref name="lastDay"/> (0-based) into <paramref name="lake"/>.</summary>
    public static void Generate(string lake, long rowsPerDay, int firstDay, int lastDay, string format = "parquet")
    {
        var target = Path.Combine(lake, "raw", "events");
        Directory.CreateDirectory(target);
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        var start = Start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var r = rowsPerDay.ToString(CultureInfo.InvariantCulture);
        // One day's events as a function of (d, i): the same expressions give a re-delivered event its original values.
        string Event(string day, string amountShift, string updatedShift) => $"""
            {day} * {r} + i AS event_id,
            (i * 7919 + {day} * 104729) % 50000 AS customer_id,
            DATE '{start}' + CAST({day} AS INTEGER) + to_seconds(CAST((i * 86399) // {r} AS BIGINT)) AS event_time,
            ['session', 'feature_use', 'payment', 'support_ticket'][1 + CAST((i * 31 + {day}) % 4 AS INTEGER)] AS event_type,
            ((i * 2654435761 + {day}) % 100000) / 100.0 + {amountShift} AS amount,
            DATE '{start}' + CAST({day} AS INTEGER) + to_seconds(CAST((i * 86399) // {r} AS BIGINT)) + {updatedShift} AS updated_at
            """;
        var options = format == "csv" ? "FORMAT csv, HEADER true" : "FORMAT parquet, COMPRESSION zstd";
        command.CommandText = $"""
            SET preserve_insertion_order = false;
            COPY (
              SELECT event_id, customer_id, event_time, CAST(event_time AS DATE) AS event_date, event_type, amount, updated_at, dt FROM (
                SELECT {Event("d", "0", "INTERVAL 0 SECOND")}, DATE '{start}' + CAST(d AS INTEGER) AS dt
                FROM range({firstDay}, {lastDay + 1}) t(d), range({r}) s(i)
                UNION ALL
                SELECT {Event("(d - 1)", "1", "INTERVAL 1 DAY")}, DATE '{start}' + CAST(d AS INTEGER) AS dt
                FROM range(greatest({firstDay}, 1), {lastDay + 1}) t(d), range(0, {r}, 50) s(i)
              )
            ) TO '{target.Replace("'", "''", StringComparison.Ordinal)}' ({options}, PARTITION_BY (dt), OVERWRITE_OR_IGNORE true, FILENAME_PATTERN 'drop_{firstDay}_{"{i}"}');
            """;
        command.ExecuteNonQuery();
    }

    /// <summary>The lake folder of a day's drop (0-based day).</summary>
    public static string DropFolder(string lake, int day) =>
        Path.Combine(lake, "raw", "events", "dt=" + Start.AddDays(day).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));

    public static string Date(int day) => Start.AddDays(day).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
