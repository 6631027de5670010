using System.Data.Common;
using static Millrace.Storage.Sql.SqlHelper;

namespace Millrace.Storage;

/// <summary>Cluster membership and run takeover (see <see cref="IMetadataStore"/>).</summary>
public abstract partial class SqlMetadataStore
{
    public async Task HeartbeatAsync(string node, DateTimeOffset startedAt, DateTimeOffset at, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, """
            INSERT INTO cluster_nodes (node, started_at, heartbeat_at) VALUES (@node, @started, @at)
            ON CONFLICT (node) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
            """, ct, ("node", node), ("started", Time(startedAt)), ("at", Time(at)));
    }

    public async Task<IReadOnlyList<ClusterNode>> GetClusterNodesAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, "SELECT node, started_at, heartbeat_at FROM cluster_nodes ORDER BY node");
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<ClusterNode>();
        while (await reader.ReadAsync(ct)) result.Add(new ClusterNode(reader.GetString(0), ParseTime(reader.GetString(1)), ParseTime(reader.GetString(2))));
        return result;
    }

    public async Task RemoveClusterNodeAsync(string node, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, "DELETE FROM cluster_nodes WHERE node = @node", ct, ("node", node));
    }

    public async Task<bool> RemoveDeadNodeAsync(string node, DateTimeOffset heartbeatAt, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        await using var command = Command(connection, transaction, """
            DELETE FROM cluster_nodes WHERE node = @node AND heartbeat_at = @at
              AND NOT EXISTS (SELECT 1 FROM runs WHERE owner = @node AND status = 'Running')
            """, ("node", node), ("at", Time(heartbeatAt)));
        var removed = await command.ExecuteNonQueryAsync(ct) == 1;
        await transaction.CommitAsync(ct);
        return removed;
    }

    public async Task<bool> TakeOverRunAsync(string runId, string? deadOwner, string reason, DateTimeOffset at, QueuedRun? resume, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        await using (var update = Command(connection, transaction,
            "UPDATE runs SET status = 'Failed', ended_at = @at, error = @reason WHERE id = @id AND status = 'Running' AND COALESCE(owner, '') = @owner",
            ("at", Time(at)), ("reason", reason), ("id", runId), ("owner", deadOwner ?? "")))
            if (await update.ExecuteNonQueryAsync(ct) != 1)
            {
                await transaction.RollbackAsync(ct);
                return false;
            }
        await ExecuteAsync(connection, transaction,
            "UPDATE step_runs SET status = 'Failed', error = 'interrupted', ended_at = @at WHERE run_id = @id AND status = 'Running'", ct,
            ("at", Time(at)), ("id", runId));
        await ExecuteAsync(connection, transaction,
            "UPDATE workflow_runs SET status = 'Failed', ended_at = @at WHERE run_id = @id AND status = 'Running'", ct,
            ("at", Time(at)), ("id", runId));
        await ExecuteAsync(connection, transaction, """
            INSERT INTO run_logs (run_id, seq, at, level, workflow, step_id, message)
            VALUES (@run, (SELECT COALESCE(MAX(seq), 0) + 1 FROM run_logs WHERE run_id = @run), @at, 'error', NULL, NULL, @message)
            """, ct, ("run", runId), ("at", Time(at)), ("message", reason));
        if (resume is not null) await InsertRunRequestAsync(connection, transaction, resume.Run, resume.Request, ct);
        await transaction.CommitAsync(ct);
        return true;
    }

    /// <summary>
    /// The fencing check of a commit: a run another node took over (its node's lease expired: it is no longer Running)
    /// must not commit, even if its process is still alive. Runs the store does not know (store-level tests) pass.
    /// </summary>
    async Task CheckStillRunningAsync(DbConnection connection, DbTransaction transaction, string runId, CancellationToken ct)
    {
        await using var command = Command(connection, transaction, "SELECT status FROM runs WHERE id = @id", ("id", runId));
        if (await command.ExecuteScalarAsync(ct) is string status && status != nameof(RunStatus.Running))
            throw new CommitConflictException(
                $"run {runId} is no longer running here (it is {status.ToLowerInvariant()}: another node took it over after this node's heartbeat lapsed); nothing was committed");
    }
}
