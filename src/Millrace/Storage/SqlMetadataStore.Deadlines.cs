using System.Globalization;
using static Millrace.Storage.Sql.SqlHelper;

namespace Millrace.Storage;

public abstract partial class SqlMetadataStore
{
    const string MissKey = "project_id = @project AND pipeline = @pipeline AND kind = @kind AND run_date = @date AND feed = @feed";

    public async Task<bool> TryRecordDeadlineMissAsync(DeadlineMiss miss, Anomaly anomaly, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        int inserted;
        await using (var command = Command(connection, transaction, """
            INSERT INTO deadline_misses (project_id, pipeline, kind, run_date, feed, due_at, due_text, missing, recorded_at, node, anomaly_id, met_at, notified_at)
            VALUES (@project, @pipeline, @kind, @date, @feed, @due, @dueText, @missing, @recorded, @node, @anomaly, @met, NULL)
            ON CONFLICT (project_id, pipeline, kind, run_date, feed) DO NOTHING
            """, [.. KeyOf(miss), ("due", Time(miss.DueAt)), ("dueText", miss.DueText), ("missing", miss.Missing), ("recorded", Time(miss.RecordedAt)),
                ("node", miss.Node), ("anomaly", miss.AnomalyId), ("met", Time(miss.MetAt))]))
            inserted = await command.ExecuteNonQueryAsync(ct);
        if (inserted == 0) return false;
        await InsertAnomalyAsync(connection, transaction, anomaly, ct);
        await transaction.CommitAsync(ct);
        return true;
    }

    public Task<bool> MarkDeadlineMetAsync(DeadlineMiss miss, DateTimeOffset metAt, CancellationToken ct) =>
        SetOnceAsync(miss, "met_at", metAt, ct);

    public Task<bool> TryClaimDeadlineNotificationAsync(DeadlineMiss miss, DateTimeOffset at, CancellationToken ct) =>
        SetOnceAsync(miss, "notified_at", at, ct);

    /// <summary>Sets a time column of a miss that is still null, in one statement: exactly one caller sees true.</summary>
    async Task<bool> SetOnceAsync(DeadlineMiss miss, string column, DateTimeOffset at, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        await using var command = Command(connection, transaction, $"UPDATE deadline_misses SET {column} = @at WHERE {MissKey} AND {column} IS NULL",
            [.. KeyOf(miss), ("at", Time(at))]);
        var updated = await command.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
        return updated == 1;
    }

    public async Task<IReadOnlyList<DeadlineMiss>> ListDeadlineMissesAsync(string projectId, string? pipeline, DateOnly from, DateOnly to, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, $"""
            SELECT project_id, pipeline, kind, run_date, feed, due_at, due_text, missing, recorded_at, node, anomaly_id, met_at, notified_at FROM deadline_misses
            WHERE project_id = @project AND run_date >= @from AND run_date <= @to {(pipeline is null ? "" : "AND pipeline = @pipeline")}
            ORDER BY run_date, pipeline, kind, feed
            """, ("project", projectId), ("from", DateText(from)), ("to", DateText(to)), ("pipeline", pipeline));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<DeadlineMiss>();
        while (await reader.ReadAsync(ct))
            result.Add(new DeadlineMiss
            {
                ProjectId = reader.GetString(0), Pipeline = reader.GetString(1), Kind = Enum.Parse<DeadlineKind>(reader.GetString(2)),
                RunDate = DateOnly.ParseExact(reader.GetString(3), "yyyy-MM-dd", CultureInfo.InvariantCulture), Feed = reader.GetString(4),
                DueAt = ParseTime(reader.GetString(5)), DueText = reader.GetString(6), Missing = reader.GetString(7), RecordedAt = ParseTime(reader.GetString(8)),
                Node = reader.GetString(9), AnomalyId = reader.GetString(10), MetAt = NullableTime(reader, 11), NotifiedAt = NullableTime(reader, 12),
            });
        return result;
    }

    static (string, object?)[] KeyOf(DeadlineMiss miss) =>
        [("project", miss.ProjectId), ("pipeline", miss.Pipeline), ("kind", miss.Kind.ToString()), ("date", DateText(miss.RunDate)), ("feed", miss.Feed)];
}
