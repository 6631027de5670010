using System.Data.Common;
using System.Globalization;
using static Millrace.Storage.Sql.SqlHelper;

namespace Millrace.Storage;

/// <summary>The run queue (see <see cref="IRunQueueStore"/>): run requests, claims, cancellations.</summary>
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
            ("ended", Time(Database.Clock.GetUtcNow())), ("error", reason), ("id", runId));
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    public async Task<bool> RequestCancelAsync(string runId, string reason, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, "UPDATE runs SET cancel_requested = @reason WHERE id = @id AND status = 'Running'", ("reason", reason), ("id", runId));
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    public async Task<IReadOnlyList<(string RunId, string Reason)>> GetCancelRequestsAsync(string owner, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null,
            "SELECT id, cancel_requested FROM runs WHERE owner = @owner AND status = 'Running' AND cancel_requested IS NOT NULL ORDER BY id", ("owner", owner));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<(string, string)>();
        while (await reader.ReadAsync(ct)) result.Add((reader.GetString(0), reader.GetString(1)));
        return result;
    }

    public async Task<int> CountActiveRunsAsync(string projectId, string target, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null,
            "SELECT COUNT(*) FROM runs WHERE project_id = @p AND target = @t AND status IN ('Queued', 'Running')", ("p", projectId), ("t", target));
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }
}
