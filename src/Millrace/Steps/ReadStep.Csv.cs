using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using Millrace.Internal;
using Millrace.Lake;
using Millrace.Parameters;

namespace Millrace.Steps;

/// <summary>The CSV side of <see cref="ReadStep"/>: the dialect, the delimiter sniff, and errors located by file and line.</summary>
public sealed partial class ReadStep
{
    static string CsvDialect(string delimiter) => $"delim = {SqlText.Quote(delimiter)}, quote = '\"', escape = '\"'";

    /// <summary>
    /// The field separator of <paramref name="file"/>, sniffed with malformed rows tolerated; null when DuckDB finds none.
    /// Without it, one ragged row makes DuckDB's strict sniffer settle on a single column split on '|' and read the
    /// whole file as text, silently; with the separator given, the strict read fails on that row instead.
    /// </summary>
    static async Task<string?> SniffDelimiterAsync(DuckDBConnection connection, string file, CancellationToken ct)
    {
        try
        {
            var delimiter = await DuckDb.ScalarAsync<string>(connection, $"SELECT Delimiter FROM sniff_csv({SqlText.Quote(file)}, ignore_errors = true)", ct);
            return string.IsNullOrEmpty(delimiter) ? null : delimiter;
        }
        catch (DuckDBException)
        {
            return null;
        }
    }

    /// <summary>
    /// Finds the file and line of a CSV error DuckDB reported without them (a sniffer failure, or a ragged row in one of
    /// several files): reads each file alone, strictly, with the columns sniffed from its good rows. Only runs after a
    /// read failed, so the happy path pays nothing.
    /// </summary>
    async Task<(string Message, string File)?> LocateCsvErrorAsync(DuckDBConnection connection, IReadOnlyList<string> files, string delimiter, CancellationToken ct)
    {
        var dialect = $"header = {(Header ? "true" : "false")}, {CsvDialect(delimiter)}";
        foreach (var file in files)
        {
            try
            {
                var columns = DuckDb.Describe(connection, $"read_csv({SqlText.Quote(file)}, {dialect}, ignore_errors = true)");
                var spec = "{" + string.Join(", ", columns.Select(c => $"{SqlText.Quote(c.Name)}: {SqlText.Quote(c.Type)}")) + "}";
                await DuckDb.ExecuteAsync(connection, $"""
                    CREATE OR REPLACE TEMP TABLE millrace_csv_check AS SELECT * FROM read_csv({SqlText.Quote(file)}, {dialect}, strict_mode = true, ignore_errors = false, columns = {spec}, auto_detect = false);
                    DROP TABLE millrace_csv_check;
                    """, ct);
            }
            catch (DuckDBException e) when (!e.Message.Contains("Error when sniffing", StringComparison.Ordinal))
            {
                return (e.Message, file);
            }
            catch (DuckDBException)
            {
                // This file cannot even be sniffed; try the next one.
            }
        }
        return null;
    }

    [GeneratedRegex(@"[Ll]ine:?\s*(\d+)")]
    private static partial Regex LinePattern();

    [GeneratedRegex("column \"?([^\"\\s.]+)\"?")]
    private static partial Regex ColumnPattern();

    /// <summary>Rewrites a DuckDB read error to name the lake file, the line and the column where it can.</summary>
    internal static string DescribeReadError(string message, LakeRoot lake, string format, IReadOnlyList<string> files)
    {
        var file = files.FirstOrDefault(f => message.Contains(f, StringComparison.Ordinal)) ?? (files.Count == 1 ? files[0] : null);
        var where = file is null ? "" : lake.ToRelative(file);
        if (format == "csv" && LinePattern().Match(message) is { Success: true } line)
        {
            where += $" line {line.Groups[1].Value}";
            if (ColumnPattern().Match(message) is { Success: true } column) where += $", column '{column.Groups[1].Value}'";
        }
        var firstLine = message.Split('\n')[0].Trim();
        var detail = string.Join(" ", message.Split('\n').Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("Possible", StringComparison.Ordinal) && !l.StartsWith('*')).Take(3));
        return (where.Length > 0 ? $"{where}: " : "") + firstLine + (detail.Length > 0 ? $" ({detail})" : "");
    }
}
