using System.Data.Common;
using System.Globalization;

namespace Millrace.Storage;

/// <summary>The server's tables: run requests, schedule states, API tokens, the audit log, webhook deliveries.</summary>
public abstract partial class SqlMetadataStore
{
    // ---- run queue ----

    public async Task<Run> EnqueueRunAsync(Run run, RunRequestInfo request, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        if (await InsertRunRequestAsync(connection, transaction, run, request, ct) is { } existingId)
        {
            await transaction.RollbackAsync(ct);
            return (await QueryRunsAsync(connection, "WHERE id = @id", new Page(0, 1), ct, ("id", existingId))).Single();
        }
        await transaction.CommitAsync(ct);
        return run;
    }

    /// <summary>
    /// Inserts a run and its request row in the caller's write transaction; when the run key names an earlier run, or
    /// the run is a retry of a run already retried, writes nothing and returns that earlier run's id.
    /// </summary>
    async Task<string?> InsertRunRequestAsync(DbConnection connection, DbTransaction transaction, Run run, RunRequestInfo request, CancellationToken ct)
    {
        if (run.RunKey is not null)
        {
            // The write lock is held, so no other request with this key can slip in between the check and the insert.
            await using var find = Command(connection, transaction, "SELECT id FROM runs WHERE project_id = @p AND target = @t AND run_key = @k", ("p", run.ProjectId), ("t", run.Target), ("k", run.RunKey));
            if (await find.ExecuteScalarAsync(ct) is string existingId) return existingId;
        }
        if (await ClaimRetryAsync(connection, transaction, run, ct) is { } firstRetry) return firstRetry;
        await ExecuteAsync(connection, transaction, InsertRunSql, ct, [.. RunParameters(run), ("owner", null)]);
        await ExecuteAsync(connection, transaction, """
            INSERT INTO run_requests (run_id, attempt, not_before, requested_by, user_name) VALUES (@run, @attempt, @notBefore, @by, @user)
            """, ct, ("run", run.Id), ("attempt", request.Attempt), ("notBefore", Time(request.NotBefore)), ("by", request.RequestedBy), ("user", request.UserName));
        return null;
    }

    public async Task<bool> ClaimQueuedRunAsync(string runId, string owner, DateTimeOffset startedAt, CancellationToken ct) =>
        await ClaimQueuedRunAsync(runId, owner, startedAt, null, ct) == ClaimResult.Claimed;

    public async Task<ClaimResult> ClaimQueuedRunAsync(string runId, string owner, DateTimeOffset startedAt, int? maxActive, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        await using (var status = Command(connection, transaction, "SELECT status FROM runs WHERE id = @id", ("id", runId)))
            if (await status.ExecuteScalarAsync(ct) is not "Queued")
            {
                await transaction.RollbackAsync(ct);
                return ClaimResult.NotQueued;
            }
        if (maxActive is { } limit)
        {
            // Under the write lock: no other node can start a run of this pipeline between the count and the claim.
            await using var count = Command(connection, transaction, """
                SELECT COUNT(*) FROM runs r JOIN runs q ON q.project_id = r.project_id AND q.target = r.target
                WHERE q.id = @id AND r.status = 'Running'
                """, ("id", runId));
            if (Convert.ToInt64(await count.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture) >= limit)
            {
                await transaction.RollbackAsync(ct);
                return ClaimResult.Busy;
            }
        }
        await using var command = Command(connection, transaction,
            "UPDATE runs SET status = 'Running', started_at = @started, owner = @owner WHERE id = @id AND status = 'Queued'",
            ("started", Time(startedAt)), ("owner", owner), ("id", runId));
        var claimed = await command.ExecuteNonQueryAsync(ct) == 1;
        await transaction.CommitAsync(ct);
        return claimed ? ClaimResult.Claimed : ClaimResult.NotQueued;
    }

    public async Task<IReadOnlyList<QueuedRun>> GetQueuedRunsAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        var runs = await QueryRunsAsync(connection, "WHERE status = 'Queued'", new Page(0, 1_000_000), ct);
        var requests = new Dictionary<string, RunRequestInfo>(StringComparer.Ordinal);
        await using (var command = Command(connection, null, """
            SELECT q.run_id, q.attempt, q.not_before, q.requested_by, q.user_name FROM run_requests q JOIN runs r ON r.id = q.run_id WHERE r.status = 'Queued'
            """))
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) requests[reader.GetString(0)] = ReadRequest(reader, 1);
        return runs.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id, StringComparer.Ordinal)
            .Select(r => new QueuedRun(r, requests.GetValueOrDefault(r.Id) ?? new RunRequestInfo())).ToList();
    }

    public async Task<RunRequestInfo?> GetRunRequestAsync(string runId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, "SELECT attempt, not_before, requested_by, user_name FROM run_requests WHERE run_id = @run", ("run", runId));
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadRequest(reader, 0) : null;
    }

    static RunRequestInfo ReadRequest(DbDataReader reader, int first) => new(
        Convert.ToInt32(reader.GetValue(first), CultureInfo.InvariantCulture), NullableTime(reader, first + 1),
        NullableString(reader, first + 2), NullableString(reader, first + 3));

    public async Task<bool> CancelQueuedRunAsync(string runId, string reason, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null,
            "UPDATE runs SET status = 'Cancelled', ended_at = @ended, error = @error WHERE id = @id AND status = 'Queued'",
            ("ended", Time(DateTimeOffset.UtcNow)), ("error", reason), ("id", runId));
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    // ---- schedules ----

    public async Task<IReadOnlyList<ScheduleState>> GetScheduleStatesAsync(string projectId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null,
            "SELECT pipeline, paused, changed_by, changed_at, last_fire_at, checked_at FROM schedule_states WHERE project_id = @p ORDER BY pipeline", ("p", projectId));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<ScheduleState>();
        while (await reader.ReadAsync(ct))
            result.Add(new ScheduleState
            {
                ProjectId = projectId,
                Pipeline = reader.GetString(0),
                Paused = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture) != 0,
                ChangedBy = NullableString(reader, 2),
                ChangedAt = NullableTime(reader, 3),
                LastFireAt = NullableTime(reader, 4),
                CheckedAt = NullableTime(reader, 5),
            });
        return result;
    }

    public async Task SetSchedulePausedAsync(string projectId, string pipeline, bool paused, string changedBy, DateTimeOffset at, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, """
            INSERT INTO schedule_states (project_id, pipeline, paused, changed_by, changed_at) VALUES (@p, @n, @paused, @by, @at)
            ON CONFLICT (project_id, pipeline) DO UPDATE SET paused = excluded.paused, changed_by = excluded.changed_by, changed_at = excluded.changed_at
            """, ct, ("p", projectId), ("n", pipeline), ("paused", paused ? 1 : 0), ("by", changedBy), ("at", Time(at)));
    }

    public async Task MarkScheduleCheckedAsync(string projectId, string pipeline, DateTimeOffset checkedAt, DateTimeOffset? firedAt, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        // Never move backwards: a late fire must not re-open fire times already handled.
        await ExecuteAsync(connection, null, """
            INSERT INTO schedule_states (project_id, pipeline, paused, checked_at, last_fire_at) VALUES (@p, @n, 0, @checked, @fired)
            ON CONFLICT (project_id, pipeline) DO UPDATE SET
                checked_at = CASE WHEN schedule_states.checked_at IS NULL OR schedule_states.checked_at < excluded.checked_at THEN excluded.checked_at ELSE schedule_states.checked_at END,
                last_fire_at = CASE WHEN excluded.last_fire_at IS NOT NULL AND (schedule_states.last_fire_at IS NULL OR schedule_states.last_fire_at < excluded.last_fire_at) THEN excluded.last_fire_at ELSE schedule_states.last_fire_at END
            """, ct, ("p", projectId), ("n", pipeline), ("checked", Time(checkedAt)), ("fired", Time(firedAt)));
    }

    // ---- tokens ----

    const string TokenColumns = "id, project_id, role, name, salt, hash, created_at, expires_at, revoked_at, last_used_at";

    public async Task CreateTokenAsync(ApiToken token, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, $"""
            INSERT INTO api_tokens ({TokenColumns}) VALUES (@id, @project, @role, @name, @salt, @hash, @created, @expires, @revoked, @used)
            """, ct, ("id", token.Id), ("project", token.ProjectId), ("role", token.Role.ToString()), ("name", token.Name), ("salt", token.Salt),
            ("hash", token.Hash), ("created", Time(token.CreatedAt)), ("expires", Time(token.ExpiresAt)), ("revoked", Time(token.RevokedAt)), ("used", Time(token.LastUsedAt)));
    }

    public async Task<ApiToken?> GetTokenAsync(string tokenId, CancellationToken ct) =>
        (await QueryTokensAsync("WHERE id = @id", ct, ("id", tokenId))).SingleOrDefault();

    public Task<IReadOnlyList<ApiToken>> ListTokensAsync(CancellationToken ct) => QueryTokensAsync("ORDER BY created_at, id", ct);

    async Task<IReadOnlyList<ApiToken>> QueryTokensAsync(string where, CancellationToken ct, params (string, object?)[] parameters)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, $"SELECT {TokenColumns} FROM api_tokens {where}", parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<ApiToken>();
        while (await reader.ReadAsync(ct))
            result.Add(new ApiToken
            {
                Id = reader.GetString(0), ProjectId = reader.GetString(1), Role = Enum.Parse<TokenRole>(reader.GetString(2)), Name = NullableString(reader, 3),
                Salt = reader.GetString(4), Hash = reader.GetString(5), CreatedAt = ParseTime(reader.GetString(6)), ExpiresAt = NullableTime(reader, 7),
                RevokedAt = NullableTime(reader, 8), LastUsedAt = NullableTime(reader, 9),
            });
        return result;
    }

    public async Task<bool> RevokeTokenAsync(string tokenId, DateTimeOffset at, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, "UPDATE api_tokens SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL", ("at", Time(at)), ("id", tokenId));
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    public async Task TouchTokenAsync(string tokenId, DateTimeOffset at, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, "UPDATE api_tokens SET last_used_at = @at WHERE id = @id", ct, ("at", Time(at)), ("id", tokenId));
    }

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
