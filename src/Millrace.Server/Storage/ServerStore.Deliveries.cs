using System.Globalization;
using Millrace.Storage;
using static Millrace.Storage.Sql.SqlHelper;

namespace Millrace.Server.Storage;

/// <summary>The audit log and webhook deliveries (see <see cref="ServerStore"/>).</summary>
public sealed partial class ServerStore
{
    // ---- audit ----

    public async Task AddAuditAsync(AuditEntry entry, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, """
            INSERT INTO audit_log (at, project_id, actor, user_name, action, target, outcome, details_json, remote_address)
            VALUES (@at, @project, @actor, @user, @action, @target, @outcome, @details, @remote)
            """, ct, ("at", Time(entry.At)), ("project", entry.ProjectId), ("actor", entry.Actor), ("user", entry.UserName), ("action", entry.Action),
            ("target", entry.Target), ("outcome", entry.Outcome), ("details", entry.DetailsJson), ("remote", entry.RemoteAddress));
    }

    public async Task<IReadOnlyList<AuditEntry>> FindAuditAsync(Page page, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, $"""
            SELECT id, at, project_id, actor, user_name, action, target, outcome, details_json, remote_address FROM audit_log
            ORDER BY id DESC LIMIT {page.Limit} OFFSET {page.Offset}
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<AuditEntry>();
        while (await reader.ReadAsync(ct))
            result.Add(new AuditEntry
            {
                Id = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture), At = ParseTime(reader.GetString(1)), ProjectId = NullableString(reader, 2),
                Actor = reader.GetString(3), UserName = NullableString(reader, 4), Action = reader.GetString(5), Target = NullableString(reader, 6),
                Outcome = Convert.ToInt32(reader.GetValue(7), CultureInfo.InvariantCulture), DetailsJson = NullableString(reader, 8), RemoteAddress = NullableString(reader, 9),
            });
        return result;
    }

    // ---- webhook deliveries ----

    const string DeliveryColumns = "id, project_id, run_id, event, url, secret_ref, payload_json, status, attempts, next_attempt_at, last_attempt_at, last_status_code, last_error, created_at, delivered_at";

    static (string, object?)[] DeliveryParameters(NotificationDelivery d) =>
    [
        ("id", d.Id), ("project", d.ProjectId), ("run", d.RunId), ("event", d.Event), ("url", d.Url), ("secret", d.SecretRef), ("payload", d.PayloadJson),
        ("status", d.Status.ToString()), ("attempts", d.Attempts), ("next", Time(d.NextAttemptAt)), ("last", Time(d.LastAttemptAt)),
        ("code", d.LastStatusCode), ("error", d.LastError), ("created", Time(d.CreatedAt)), ("delivered", Time(d.DeliveredAt)),
    ];

    public async Task AddNotificationAsync(NotificationDelivery delivery, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, $"""
            INSERT INTO notification_deliveries ({DeliveryColumns})
            VALUES (@id, @project, @run, @event, @url, @secret, @payload, @status, @attempts, @next, @last, @code, @error, @created, @delivered)
            """, ct, DeliveryParameters(delivery));
    }

    public async Task UpdateNotificationAsync(NotificationDelivery delivery, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, """
            UPDATE notification_deliveries SET status = @status, attempts = @attempts, next_attempt_at = @next, last_attempt_at = @last,
                last_status_code = @code, last_error = @error, delivered_at = @delivered WHERE id = @id
            """, ct, DeliveryParameters(delivery));
    }

    public async Task<IReadOnlyList<NotificationDelivery>> GetDueNotificationsAsync(DateTimeOffset now, int limit, CancellationToken ct) =>
        await QueryDeliveriesAsync($"WHERE status = 'Pending' AND (next_attempt_at IS NULL OR next_attempt_at <= @now) ORDER BY created_at, id LIMIT {limit}", ct, ("now", Time(now)));

    public async Task<IReadOnlyList<NotificationDelivery>> FindNotificationsAsync(string? runId, Page page, CancellationToken ct) =>
        await QueryDeliveriesAsync($"{(runId is null ? "" : "WHERE run_id = @run")} ORDER BY created_at DESC, id LIMIT {page.Limit} OFFSET {page.Offset}", ct, ("run", runId));

    async Task<IReadOnlyList<NotificationDelivery>> QueryDeliveriesAsync(string where, CancellationToken ct, params (string, object?)[] parameters)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, $"SELECT {DeliveryColumns} FROM notification_deliveries {where}", parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<NotificationDelivery>();
        while (await reader.ReadAsync(ct))
            result.Add(new NotificationDelivery
            {
                Id = reader.GetString(0), ProjectId = reader.GetString(1), RunId = NullableString(reader, 2), Event = reader.GetString(3), Url = reader.GetString(4),
                SecretRef = reader.GetString(5), PayloadJson = reader.GetString(6), Status = Enum.Parse<DeliveryStatus>(reader.GetString(7)),
                Attempts = Convert.ToInt32(reader.GetValue(8), CultureInfo.InvariantCulture), NextAttemptAt = NullableTime(reader, 9), LastAttemptAt = NullableTime(reader, 10),
                LastStatusCode = reader.IsDBNull(11) ? null : Convert.ToInt32(reader.GetValue(11), CultureInfo.InvariantCulture), LastError = NullableString(reader, 12),
                CreatedAt = ParseTime(reader.GetString(13)), DeliveredAt = NullableTime(reader, 14),
            });
        return result;
    }
}
