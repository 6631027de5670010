using System.Globalization;
using DuckDB.NET.Data;
using Millrace.Engine;
using Millrace.Learning;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Quality;

/// <summary>What a time-series detection measures and how it judges each bucket.</summary>
/// <param name="Time">The DATE or TIMESTAMP column that places a row in a bucket.</param>
/// <param name="Bucket">day, week (ISO, starting Monday), month or hour.</param>
/// <param name="Value">The measured column; null only with <c>count</c> (rows are counted).</param>
/// <param name="Aggregate">sum, count or avg of <paramref name="Value"/> per bucket.</param>
/// <param name="GroupBy">Columns that split the data into separate series (e.g. region).</param>
/// <param name="Window">How many earlier buckets of the same series (and season) a bucket is compared with.</param>
/// <param name="Seasonal">none, or weekly: compare a bucket only with buckets of the same weekday (and hour, for hourly buckets).</param>
/// <param name="Threshold">A bucket is flagged when its robust z-score exceeds this in absolute value.</param>
/// <param name="MinHistory">How many earlier buckets a bucket needs before it can be scored at all.</param>
public sealed record TimeSeriesSettings(
    string Time, string Bucket, string? Value, string Aggregate, IReadOnlyList<string> GroupBy,
    int Window, string Seasonal, double Threshold, int MinHistory);

/// <summary>One flagged bucket of one series.</summary>
/// <param name="Group">The series: each group-by column with its value.</param>
/// <param name="Bucket">The bucket's start (a <see cref="DateOnly"/> or, for hours, a <see cref="DateTime"/>).</param>
/// <param name="Value">The bucket's aggregated value.</param>
/// <param name="Median">The median of the earlier buckets it was compared with.</param>
/// <param name="Mad">Their median absolute deviation.</param>
/// <param name="Score">The robust z-score; infinite when the earlier values were all equal (MAD 0) and this one differs.</param>
/// <param name="History">How many earlier buckets it was compared with.</param>
public sealed record FlaggedBucket(
    IReadOnlyList<KeyValuePair<string, object?>> Group, object Bucket, double Value, double Median, double Mad, double Score, long History);

/// <summary>
/// Rolling robust z-scores per series, computed entirely in DuckDB: the input is aggregated to one value per group and
/// bucket, and each bucket is compared with the median and the MAD (median absolute deviation) of the previous
/// <c>window</c> buckets of its series (of the same weekday with weekly seasonality):
/// z = 0.6745 · (value − median) / MAD. When the MAD is 0 (the earlier values are all equal), a bucket equal to the
/// median scores 0 and any other value scores ±∞, so it is flagged. Buckets with fewer than <c>min_history</c>
/// earlier buckets are not scored.
/// </summary>
public static class TimeSeriesDetector
{
    public static readonly IReadOnlyList<string> Buckets = ["day", "week", "month", "hour"];
    public static readonly IReadOnlyList<string> Aggregates = ["sum", "count", "avg"];
    public static readonly IReadOnlyList<string> Seasons = ["none", "weekly"];

    /// <summary>The columns the output adds after the group-by columns; a group-by column may not use these names.</summary>
    public static readonly IReadOnlyList<string> OutputColumns = ["bucket", "value", "median", "mad", "score", "is_anomaly"];

    /// <summary>Makes the MAD of normally distributed data comparable to its standard deviation.</summary>
    public const double Consistency = 0.6745;

    /// <summary>
    /// Checks <paramref name="settings"/> against the input's columns and returns the query that yields the group-by
    /// columns, <c>bucket</c>, <c>value</c>, <c>median</c>, <c>mad</c>, <c>history</c> (earlier buckets compared with),
    /// <c>score</c> and <c>is_anomaly</c>, ordered by series and bucket.
    /// </summary>
    public static string ScoreQuery(string input, IReadOnlyList<ColumnSchema> schema, TimeSeriesSettings settings)
    {
        string TypeOf(string column, string role) => schema.FirstOrDefault(c => c.Name == column)?.Type
            ?? throw new StepFailedException($"{role} column '{column}' is not in the input (columns: {string.Join(", ", schema.Select(c => c.Name))})");

        var timeType = TypeOf(settings.Time, "time").ToUpperInvariant();
        var time = SqlText.Identifier(settings.Time);
        if (timeType.StartsWith("TIMESTAMP WITH TIME ZONE", StringComparison.Ordinal)) time = $"timezone('UTC', {time})";
        else if (timeType == "DATE")
        {
            if (settings.Bucket == "hour") throw new StepFailedException($"bucket: hour needs a timestamp, and time column '{settings.Time}' is a DATE; use day, week or month");
        }
        else if (!timeType.StartsWith("TIMESTAMP", StringComparison.Ordinal))
            throw new StepFailedException($"time column '{settings.Time}' is {timeType}, not a DATE or TIMESTAMP; cast it in a sql step (e.g. CAST({settings.Time} AS DATE))");
        var bucket = settings.Bucket switch
        {
            "hour" => $"date_trunc('hour', CAST({time} AS TIMESTAMP))",
            "day" => $"CAST({time} AS DATE)",
            _ => $"CAST(date_trunc('{settings.Bucket}', {time}) AS DATE)",
        };

        string measure;
        if (settings.Value is null) measure = "CAST(count(*) AS DOUBLE)";
        else
        {
            var valueType = TypeOf(settings.Value, "value");
            var value = SqlText.Identifier(settings.Value);
            if (settings.Aggregate == "count") measure = $"CAST(count({value}) AS DOUBLE)";
            else if (FeaturePlan.RoleOf(valueType) is FeaturePlan.Numeric)
                measure = $"{settings.Aggregate}(CAST({value} AS DOUBLE))";
            else throw new StepFailedException($"value column '{settings.Value}' is {valueType}, not a number, so it has no {settings.Aggregate}; use aggregate: count, or cast it in a sql step");
        }

        foreach (var column in settings.GroupBy) TypeOf(column, "group_by");
        var groups = string.Concat(settings.GroupBy.Select(g => SqlText.Identifier(g) + ", "));
        var partition = settings.GroupBy.Select(SqlText.Identifier).ToList();
        if (settings.Seasonal == "weekly")
        {
            partition.Add("dayofweek(bucket)");
            if (settings.Bucket == "hour") partition.Add("hour(bucket)");
        }
        var partitionBy = partition.Count == 0 ? "" : $"PARTITION BY {string.Join(", ", partition)} ";
        var threshold = settings.Threshold.ToString("R", CultureInfo.InvariantCulture);
        var consistency = Consistency.ToString("R", CultureInfo.InvariantCulture);
        return $"""
            WITH series AS (
                SELECT {groups}{bucket} AS bucket, {measure} AS value
                FROM {input}
                WHERE {time} IS NOT NULL
                GROUP BY ALL
            ), compared AS (
                SELECT *, median(value) OVER earlier AS median, mad(value) OVER earlier AS mad, count(value) OVER earlier AS history
                FROM series
                WINDOW earlier AS ({partitionBy}ORDER BY bucket ROWS BETWEEN {settings.Window} PRECEDING AND 1 PRECEDING)
            ), scored AS (
                SELECT {groups}bucket, value, median, mad, history,
                    CASE
                        WHEN value IS NULL OR history < {settings.MinHistory} THEN NULL
                        WHEN mad > 0 THEN {consistency} * (value - median) / mad
                        WHEN value = median THEN 0.0
                        WHEN value > median THEN CAST('infinity' AS DOUBLE)
                        ELSE CAST('-infinity' AS DOUBLE)
                    END AS score
                FROM compared
            )
            SELECT *, coalesce(abs(score) > {threshold}, FALSE) AS is_anomaly
            FROM scored
            ORDER BY {groups}bucket
            """;
    }

    /// <summary>
    /// The flagged buckets of a table made from <see cref="ScoreQuery"/>: all of them, or only those in the latest bucket
    /// of the data (any series); at most <paramref name="limit"/>, most extreme first. Also returns how many there are.
    /// </summary>
    public static async Task<(IReadOnlyList<FlaggedBucket> Flagged, long Total, object? Latest)> FlaggedAsync(
        DuckDBConnection connection, string table, TimeSeriesSettings settings, bool latestOnly, int limit, CancellationToken ct)
    {
        var filter = latestOnly ? $"is_anomaly AND bucket = (SELECT max(bucket) FROM {table})" : "is_anomaly";
        var groups = string.Concat(settings.GroupBy.Select(g => SqlText.Identifier(g) + ", "));
        return await Task.Run(() =>
        {
            object? latest;
            long total;
            using (var command = connection.CreateCommand())
            {
                command.CommandText = $"SELECT max(bucket), count(*) FILTER (WHERE {filter}) FROM {table}";
                using var reader = command.ExecuteReader();
                reader.Read();
                latest = reader.IsDBNull(0) ? null : reader.GetValue(0);
                total = reader.GetInt64(1);
            }
            var flagged = new List<FlaggedBucket>();
            using (var command = connection.CreateCommand())
            {
                command.CommandText = $"""
                    SELECT {groups}bucket, value, median, mad, score, history FROM {table}
                    WHERE {filter}
                    ORDER BY abs(score) DESC, bucket, {groups}value
                    LIMIT {limit}
                    """;
                using var reader = command.ExecuteReader();
                var n = settings.GroupBy.Count;
                while (reader.Read())
                {
                    ct.ThrowIfCancellationRequested();
                    var group = settings.GroupBy.Select((g, i) => new KeyValuePair<string, object?>(g, reader.IsDBNull(i) ? null : reader.GetValue(i))).ToList();
                    flagged.Add(new FlaggedBucket(group, reader.GetValue(n), reader.GetDouble(n + 1), reader.GetDouble(n + 2), reader.GetDouble(n + 3),
                        reader.GetDouble(n + 4), reader.GetInt64(n + 5)));
                }
            }
            return ((IReadOnlyList<FlaggedBucket>)flagged, total, latest);
        }, ct);
    }

    /// <summary>A bucket as people write it: <c>2026-03-01</c>, or <c>2026-03-01 14:00</c> for hours.</summary>
    public static string FormatBucket(object? bucket) => bucket switch
    {
        DateOnly date => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime time => time.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
        null => "",
        _ => Convert.ToString(bucket, CultureInfo.InvariantCulture) ?? "",
    };
}
