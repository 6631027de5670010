using System.Globalization;
using static Millrace.Storage.Sql.SqlHelper;

namespace Millrace.Storage;

public abstract partial class SqlMetadataStore
{
    // ---- runs by run date ----

    /// <summary>
    /// The per-status counts are columns built from <see cref="RunStatus"/>'s names (never from input), so a status
    /// added to the enum is counted without a change here. The runs_target_date index (migration 0015) serves the range.
    /// </summary>
    static readonly string RunDatesSql = $"""
        WITH ranged AS (
            SELECT {RunColumns} FROM runs
            WHERE project_id = @project AND target = @target AND run_date >= @from AND run_date <= @to),
        counted AS (
            SELECT run_date AS counted_date, {string.Join(", ", Enum.GetNames<RunStatus>().Select(n => $"SUM(CASE WHEN status = '{n}' THEN 1 ELSE 0 END) AS n_{n.ToLowerInvariant()}"))}
            FROM ranged GROUP BY run_date),
        ranked AS (
            SELECT id AS ranked_id,
                   ROW_NUMBER() OVER (PARTITION BY run_date ORDER BY CASE WHEN status = 'Skipped' THEN 1 ELSE 0 END, created_at DESC, id DESC) AS recency
            FROM ranged)
        SELECT {RunColumns}, {string.Join(", ", Enum.GetNames<RunStatus>().Select(n => $"n_{n.ToLowerInvariant()}"))}
        FROM ranged JOIN ranked ON ranked_id = id AND recency = 1 JOIN counted ON counted_date = run_date
        ORDER BY run_date
        """;

    public async Task<IReadOnlyList<RunDateSummary>> ListRunDatesAsync(string projectId, string target, DateOnly from, DateOnly to, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, RunDatesSql, ("project", projectId), ("target", target),
            ("from", from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), ("to", to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var statuses = Enum.GetValues<RunStatus>();
        var result = new List<RunDateSummary>();
        while (await reader.ReadAsync(ct))
        {
            var latest = ReadRun(reader);
            var counts = new Dictionary<RunStatus, int>();
            for (var i = 0; i < statuses.Length; i++)
            {
                var count = Convert.ToInt32(reader.GetValue(15 + i), CultureInfo.InvariantCulture);
                if (count > 0) counts[statuses[i]] = count;
            }
            result.Add(new RunDateSummary(latest.RunDate, counts, latest));
        }
        return result;
    }
}
