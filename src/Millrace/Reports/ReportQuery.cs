using System.Globalization;
using System.Numerics;
using DuckDB.NET.Data;
using Millrace.Internal;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Reports;

/// <summary>
/// The result of one report block's SQL, kept in a temporary DuckDB table while the block is built: its columns,
/// row count, rows read back (as many as the block needs) and a CSV copy of every row.
/// </summary>
internal sealed class ReportQuery : IAsyncDisposable
{
    readonly DuckDBConnection _connection;

    ReportQuery(DuckDBConnection connection, string table, IReadOnlyList<ColumnSchema> columns, long rows)
    {
        _connection = connection;
        Table = table;
        Columns = columns;
        RowCount = rows;
    }

    /// <summary>The connection the result lives on.</summary>
    public DuckDBConnection Connection => _connection;

    /// <summary>The quoted name of the temporary table holding the result.</summary>
    public string Table { get; }
    public IReadOnlyList<ColumnSchema> Columns { get; }
    public long RowCount { get; }

    /// <summary>Runs <paramref name="sql"/> (already expanded) into temporary table <paramref name="name"/>.</summary>
    public static async Task<ReportQuery> RunAsync(DuckDBConnection connection, string name, string sql, CancellationToken ct)
    {
        var table = SqlText.Identifier(name);
        await DuckDb.ExecuteAsync(connection, $"CREATE OR REPLACE TEMP TABLE {table} AS {sql.Trim().TrimEnd(';')}", ct);
        return new ReportQuery(connection, table, DuckDb.Describe(connection, table), await DuckDb.CountAsync(connection, table, ct));
    }

    /// <summary>The column named <paramref name="name"/>; a clear error naming the columns there are when it is missing.</summary>
    public ColumnSchema Column(string name) =>
        Columns.FirstOrDefault(c => c.Name == name)
        ?? throw new Engine.StepFailedException($"column '{name}' is not in the result (columns: {string.Join(", ", Columns.Select(c => c.Name))})");

    /// <summary>Reads <paramref name="columns"/> (all when null) of the first <paramref name="limit"/> rows, in the result's order.</summary>
    public Task<IReadOnlyList<object?[]>> ReadAsync(IReadOnlyList<string>? columns, long? limit, CancellationToken ct)
    {
        var select = columns is null ? "*" : string.Join(", ", columns.Select(SqlText.Identifier));
        return DuckDb.RowsAsync(_connection, $"SELECT {select} FROM {Table}{(limit is null ? "" : $" LIMIT {limit}")}", ct);
    }

    /// <summary>Writes every row to a CSV file with a header (DuckDB's CSV writer, as the write step uses).</summary>
    public Task WriteCsvAsync(string path, CancellationToken ct) =>
        DuckDb.ExecuteAsync(_connection, $"COPY (SELECT * FROM {Table}) TO {SqlText.Quote(path)} (FORMAT csv, HEADER true)", ct);

    public async ValueTask DisposeAsync()
    {
        try { await DuckDb.ExecuteAsync(_connection, $"DROP TABLE IF EXISTS {Table}", CancellationToken.None); }
        catch (DuckDBException) { /* the connection is closing; temporary tables go with it */ }
    }

    /// <summary>Whether a DuckDB type is a number (integers, floating point, decimals).</summary>
    public static bool IsNumeric(string type)
    {
        var t = type.ToUpperInvariant();
        return t is "TINYINT" or "SMALLINT" or "INTEGER" or "BIGINT" or "HUGEINT" or "UTINYINT" or "USMALLINT" or "UINTEGER" or "UBIGINT" or "UHUGEINT"
            or "FLOAT" or "DOUBLE" || t.StartsWith("DECIMAL", StringComparison.Ordinal);
    }

    /// <summary>Whether a DuckDB type is a date or a timestamp.</summary>
    public static bool IsTemporal(string type)
    {
        var t = type.ToUpperInvariant();
        return t == "DATE" || t.StartsWith("TIMESTAMP", StringComparison.Ordinal);
    }

    /// <summary>A numeric value as a double; null for NULL.</summary>
    public static double? ToDouble(object? value) => value switch
    {
        null => null,
        double d => d,
        float f => f,
        BigInteger b => (double)b,
        bool b => b ? 1 : 0,
        IConvertible c => c.ToDouble(CultureInfo.InvariantCulture),
        _ => throw new Engine.StepFailedException($"'{value}' is not a number"),
    };

    /// <summary>A date or timestamp as OLE automation days (ScottPlot's date axis unit).</summary>
    public static double ToDateAxis(object? value) => value switch
    {
        null => double.NaN,
        DateOnly d => d.ToDateTime(TimeOnly.MinValue).ToOADate(),
        DateTime t => t.ToOADate(),
        DateTimeOffset o => o.UtcDateTime.ToOADate(),
        _ => double.NaN,
    };

    /// <summary>A value as a table cell or a category label shows it (invariant culture; NULL is empty).</summary>
    public static string Format(object? value, string type) => value switch
    {
        null => "",
        bool b => b ? "true" : "false",
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime t when type.Equals("DATE", StringComparison.OrdinalIgnoreCase) || t.TimeOfDay == TimeSpan.Zero && t.Kind != DateTimeKind.Utc && !type.StartsWith("TIMESTAMP", StringComparison.OrdinalIgnoreCase)
            => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        DateTimeOffset o => o.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        double d => Number(d),
        float f => Number(f),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>A floating-point number with at most four decimals (scientific notation for very large or tiny values).</summary>
    public static string Number(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value)) return value.ToString(CultureInfo.InvariantCulture);
        var magnitude = Math.Abs(value);
        return magnitude >= 1e15 || (magnitude < 1e-4 && magnitude > 0)
            ? value.ToString("G6", CultureInfo.InvariantCulture)
            : value.ToString("0.####", CultureInfo.InvariantCulture);
    }
}
