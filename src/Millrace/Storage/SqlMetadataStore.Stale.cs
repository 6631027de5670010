using System.Data.Common;
using System.Globalization;
using static Millrace.Storage.Sql.SqlHelper;

namespace Millrace.Storage;

public abstract partial class SqlMetadataStore
{
    const string StaleColumns = "m.id, m.project_id, m.pipeline, m.run_date, m.run_id, m.reason, m.marked_at, m.cleared_by_run_id, m.cleared_at";

    public async Task<IReadOnlyList<StaleMark>> MarkStaleAsync(string projectId, string pipeline, DateOnly runDate, string reason, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        var now = Database.Clock.GetUtcNow();
        var runs = new List<string>();
        await using (var command = Command(connection, transaction, """
            SELECT id FROM runs
            WHERE project_id = @p AND target = @t AND target_kind = 'pipeline' AND run_date = @d AND status = 'Succeeded'
              AND NOT EXISTS (SELECT 1 FROM stale_marks m WHERE m.run_id = runs.id)
            ORDER BY created_at, id
            """, ("p", projectId), ("t", pipeline), ("d", Date(runDate))))
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) runs.Add(reader.GetString(0));
        var marks = new List<StaleMark>();
        foreach (var runId in runs)
        {
            var mark = new StaleMark($"{now.UtcTicks:D20}-{Guid.NewGuid():N}", projectId, pipeline, runDate, runId, reason, now);
            // The open-mark index makes a concurrent mark of the same run a no-op.
            await using var insert = Command(connection, transaction, """
                INSERT INTO stale_marks (id, project_id, pipeline, run_date, run_id, reason, marked_at) VALUES (@id, @p, @t, @d, @run, @reason, @at)
                ON CONFLICT DO NOTHING
                """, ("id", mark.Id), ("p", projectId), ("t", pipeline), ("d", Date(runDate)), ("run", runId), ("reason", reason), ("at", Time(now)));
            if (await insert.ExecuteNonQueryAsync(ct) > 0) marks.Add(mark);
        }
        await transaction.CommitAsync(ct);
        return marks;
    }

    public async Task<int> ClearStaleAsync(string projectId, string pipeline, DateOnly runDate, string runId, DateTimeOffset startedAt, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        await using var command = Command(connection, transaction, """
            UPDATE stale_marks SET cleared_by_run_id = @run, cleared_at = @at
            WHERE project_id = @p AND pipeline = @t AND run_date = @d AND cleared_at IS NULL AND run_id <> @run AND marked_at < @started
            """, ("run", runId), ("at", Time(Database.Clock.GetUtcNow())), ("p", projectId), ("t", pipeline), ("d", Date(runDate)), ("started", Time(startedAt)));
        var cleared = await command.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
        return cleared;
    }

    public async Task<IReadOnlyList<StaleMark>> ListStaleAsync(string projectId, string? pipeline, DateOnly? from, DateOnly? to, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        var where = "m.project_id = @p" + (pipeline is null ? "" : " AND m.pipeline = @t") + (from is null ? "" : " AND m.run_date >= @from") + (to is null ? "" : " AND m.run_date <= @to");
        return await QueryStaleAsync(connection, $"SELECT {StaleColumns} FROM stale_marks m WHERE {where} ORDER BY m.run_date, m.marked_at, m.id", ct,
            ("p", projectId), ("t", pipeline), ("from", from is { } f ? Date(f) : null), ("to", to is { } t ? Date(t) : null));
    }

    public async Task<IReadOnlyDictionary<string, StaleMark>> GetOpenStaleMarksAsync(IReadOnlyCollection<string> runIds, CancellationToken ct)
    {
        var result = new Dictionary<string, StaleMark>(StringComparer.Ordinal);
        if (runIds.Count == 0) return result;
        await using var connection = await OpenAsync(ct);
        // In chunks: a page of runs is at most a few hundred, and every database takes that many parameters.
        foreach (var chunk in runIds.Distinct(StringComparer.Ordinal).Chunk(200))
        {
            var names = chunk.Select((_, i) => "@r" + i.ToString(CultureInfo.InvariantCulture)).ToList();
            var marks = await QueryStaleAsync(connection, $"SELECT {StaleColumns} FROM stale_marks m WHERE m.cleared_at IS NULL AND m.run_id IN ({string.Join(", ", names)})", ct,
                [.. chunk.Select((id, i) => ("r" + i.ToString(CultureInfo.InvariantCulture), (object?)id))]);
            foreach (var mark in marks) result[mark.RunId] = mark;
        }
        return result;
    }

    public async Task<IReadOnlyDictionary<int, StaleMark>> GetStaleDatasetVersionsAsync(string dataset, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, $"""
            SELECT v.version, {StaleColumns} FROM dataset_versions v JOIN stale_marks m ON m.run_id = v.run_id AND m.cleared_at IS NULL
            WHERE v.dataset = @d
            """, ("d", dataset));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new Dictionary<int, StaleMark>();
        while (await reader.ReadAsync(ct)) result[Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture)] = ReadStale(reader, 1);
        return result;
    }

    async Task<IReadOnlyList<StaleMark>> QueryStaleAsync(DbConnection connection, string sql, CancellationToken ct, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, null, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<StaleMark>();
        while (await reader.ReadAsync(ct)) result.Add(ReadStale(reader, 0));
        return result;
    }

    static StaleMark ReadStale(DbDataReader reader, int at) => new(
        reader.GetString(at), reader.GetString(at + 1), reader.GetString(at + 2),
        DateOnly.ParseExact(reader.GetString(at + 3), "yyyy-MM-dd", CultureInfo.InvariantCulture), reader.GetString(at + 4), reader.GetString(at + 5),
        ParseTime(reader.GetString(at + 6)), NullableString(reader, at + 7), NullableTime(reader, at + 8));

    static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
