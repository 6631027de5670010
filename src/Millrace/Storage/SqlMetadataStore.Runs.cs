using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using static Millrace.Storage.Sql.SqlHelper;

namespace Millrace.Storage;

public abstract partial class SqlMetadataStore
{
    // ---- runs ----

    public Task<Run> CreateRunAsync(Run run, CancellationToken ct) => CreateRunAsync(run, null, ct);

    public async Task<Run> CreateRunAsync(Run run, string? owner, CancellationToken ct) => (await CreateRunAsync(run, owner, null, ct))!;

    public Task<Run?> TryCreateRunAsync(Run run, string owner, int maxActive, CancellationToken ct) => CreateRunAsync(run, owner, maxActive, ct);

    async Task<Run?> CreateRunAsync(Run run, string? owner, int? maxActive, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using (var transaction = await BeginWriteAsync(connection, ct))
        {
            if (maxActive is { } limit)
            {
                // An earlier run with the key is the answer whether or not the target is busy.
                if (run.RunKey is not null)
                {
                    await using var find = Command(connection, transaction, "SELECT id FROM runs WHERE project_id = @p AND target = @t AND run_key = @k", ("p", run.ProjectId), ("t", run.Target), ("k", run.RunKey));
                    if (await find.ExecuteScalarAsync(ct) is string existingId)
                    {
                        await transaction.RollbackAsync(ct);
                        return (await QueryRunsAsync(connection, "WHERE id = @id", new Page(0, 1), ct, ("id", existingId))).Single();
                    }
                }
                // Under the write lock, as ClaimQueuedRunAsync counts: no other process starts a run of the target between the count and the insert.
                await using var count = Command(connection, transaction, "SELECT COUNT(*) FROM runs WHERE project_id = @p AND target = @t AND status = 'Running'",
                    ("p", run.ProjectId), ("t", run.Target));
                if (Convert.ToInt64(await count.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture) >= limit)
                {
                    await transaction.RollbackAsync(ct);
                    return null;
                }
            }
            if (await ClaimRetryAsync(connection, transaction, run, ct) is { } firstRetry)
            {
                await transaction.RollbackAsync(ct);
                return (await QueryRunsAsync(connection, "WHERE id = @id", new Page(0, 1), ct, ("id", firstRetry))).Single();
            }
            try
            {
                await ExecuteAsync(connection, transaction, InsertRunSql, ct, [.. RunParameters(run), ("owner", owner)]);
                await transaction.CommitAsync(ct);
                return run;
            }
            catch (DbException e) when (run.RunKey is not null && IsUniqueViolation(e))
            {
                await transaction.RollbackAsync(CancellationToken.None);
            }
        }
        var existing = await QueryRunsAsync(connection, "WHERE project_id = @p AND target = @t AND run_key = @k", new Page(0, 1), ct, ("p", run.ProjectId), ("t", run.Target), ("k", run.RunKey));
        return existing.Single();
    }

    const string InsertRunSql = """
        INSERT INTO runs (id, project_id, target, target_kind, trigger_kind, status, parameters_json, run_date,
                          definitions_hash, run_key, parent_run_id, created_at, started_at, ended_at, error, owner)
        VALUES (@id, @project, @target, @kind, @trigger, @status, @parameters, @date, @hash, @key, @parent, @created, @started, @ended, @error, @owner)
        """;

    /// <summary>
    /// For a retry (trigger Retry with a parent, not skipped): marks the parent as retried by <paramref name="run"/> in
    /// the caller's write transaction, and returns null. When the parent already names its retry, marks nothing and
    /// returns that retry's id: a run is resumed once, however many retries are asked for at the same time.
    /// </summary>
    async Task<string?> ClaimRetryAsync(DbConnection connection, DbTransaction transaction, Run run, CancellationToken ct)
    {
        if (run.Trigger != TriggerKind.Retry || run.ParentRunId is null || run.Status == RunStatus.Skipped) return null;
        // A conditional update: with concurrent transactions (PostgreSQL), the second waits for the first's row lock,
        // then finds retried_by set and changes nothing.
        await using (var claim = Command(connection, transaction, "UPDATE runs SET retried_by = @id WHERE id = @parent AND retried_by IS NULL",
            ("id", run.Id), ("parent", run.ParentRunId)))
            if (await claim.ExecuteNonQueryAsync(ct) == 1) return null;
        await using var find = Command(connection, transaction, "SELECT retried_by FROM runs WHERE id = @parent", ("parent", run.ParentRunId));
        return await find.ExecuteScalarAsync(ct) as string;
    }

    public async Task<Run?> GetRunAsync(string runId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return (await QueryRunsAsync(connection, "WHERE id = @id", new Page(0, 1), ct, ("id", runId))).SingleOrDefault();
    }

    public async Task<IReadOnlyList<Run>> FindRunsAsync(RunFilter filter, Page page, CancellationToken ct)
    {
        var clauses = new List<string>();
        var parameters = new List<(string, object?)>();
        if (filter.ProjectId is not null) { clauses.Add("project_id = @project"); parameters.Add(("project", filter.ProjectId)); }
        if (filter.Target is not null) { clauses.Add("target = @target"); parameters.Add(("target", filter.Target)); }
        if (filter.Status is not null) { clauses.Add("status = @status"); parameters.Add(("status", filter.Status.Value.ToString())); }
        if (filter.RunDate is not null) { clauses.Add("run_date = @date"); parameters.Add(("date", filter.RunDate.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))); }
        await using var connection = await OpenAsync(ct);
        return await QueryRunsAsync(connection, clauses.Count == 0 ? "" : "WHERE " + string.Join(" AND ", clauses), page, ct, [.. parameters]);
    }

    static (string, object?)[] RunParameters(Run run) =>
    [
        ("id", run.Id), ("project", run.ProjectId), ("target", run.Target), ("kind", run.TargetKind),
        ("trigger", run.Trigger.ToString()), ("status", run.Status.ToString()),
        ("parameters", JsonSerializer.Serialize(run.Parameters.Select(p => new[] { p.Key, p.Value }), Json)),
        ("date", run.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), ("hash", run.DefinitionsHash),
        ("key", run.RunKey), ("parent", run.ParentRunId), ("created", Time(run.CreatedAt)),
        ("started", Time(run.StartedAt)), ("ended", Time(run.EndedAt)), ("error", run.Error),
    ];

    /// <summary>The columns <see cref="ReadRun"/> reads, in its order.</summary>
    const string RunColumns = """
        id, project_id, target, target_kind, trigger_kind, status, parameters_json, run_date, definitions_hash,
        run_key, parent_run_id, created_at, started_at, ended_at, error
        """;

    async Task<IReadOnlyList<Run>> QueryRunsAsync(DbConnection connection, string where, Page page, CancellationToken ct, params (string, object?)[] parameters)
    {
        var sql = $"SELECT {RunColumns} FROM runs {where} ORDER BY created_at DESC, id DESC LIMIT {page.Limit} OFFSET {page.Offset}";
        await using var command = Command(connection, null, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var runs = new List<Run>();
        while (await reader.ReadAsync(ct)) runs.Add(ReadRun(reader));
        return runs;
    }

    /// <summary>A run from the first 15 columns of <paramref name="reader"/>'s row, in <see cref="RunColumns"/> order.</summary>
    static Run ReadRun(DbDataReader reader) => new()
    {
        Id = reader.GetString(0),
        ProjectId = reader.GetString(1),
        Target = reader.GetString(2),
        TargetKind = reader.GetString(3),
        Trigger = Enum.Parse<TriggerKind>(reader.GetString(4)),
        Status = Enum.Parse<RunStatus>(reader.GetString(5)),
        Parameters = JsonSerializer.Deserialize<string[][]>(reader.GetString(6), Json)!.Select(p => new KeyValuePair<string, string>(p[0], p[1])).ToList(),
        RunDate = DateOnly.ParseExact(reader.GetString(7), "yyyy-MM-dd", CultureInfo.InvariantCulture),
        DefinitionsHash = reader.GetString(8),
        RunKey = NullableString(reader, 9),
        ParentRunId = NullableString(reader, 10),
        CreatedAt = ParseTime(reader.GetString(11)),
        StartedAt = NullableTime(reader, 12),
        EndedAt = NullableTime(reader, 13),
        Error = NullableString(reader, 14),
    };

    public async Task<bool> FinishRunAsync(Run run, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        await using var command = Command(connection, transaction,
            "UPDATE runs SET status = @status, ended_at = @ended, error = @error WHERE id = @id AND status = 'Running'",
            ("status", run.Status.ToString()), ("ended", Time(run.EndedAt)), ("error", run.Error), ("id", run.Id));
        var finished = await command.ExecuteNonQueryAsync(ct) == 1;
        await transaction.CommitAsync(ct);
        return finished;
    }

    // ---- workflow and step runs ----

    public async Task SaveWorkflowRunAsync(WorkflowRun workflowRun, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, """
            INSERT INTO workflow_runs (run_id, workflow, position, status, started_at, ended_at, committed_at)
            VALUES (@run, @workflow, @position, @status, @started, @ended, @committed)
            ON CONFLICT (run_id, workflow) DO UPDATE SET status = excluded.status, started_at = excluded.started_at,
                ended_at = excluded.ended_at, committed_at = COALESCE(workflow_runs.committed_at, excluded.committed_at)
            """, ct, ("run", workflowRun.RunId), ("workflow", workflowRun.Workflow), ("position", workflowRun.Position),
            ("status", workflowRun.Status.ToString()), ("started", Time(workflowRun.StartedAt)), ("ended", Time(workflowRun.EndedAt)),
            ("committed", Time(workflowRun.CommittedAt)));
    }

    public async Task<IReadOnlyList<WorkflowRun>> GetWorkflowRunsAsync(string runId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null,
            "SELECT workflow, position, status, started_at, ended_at, committed_at FROM workflow_runs WHERE run_id = @run ORDER BY position", ("run", runId));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<WorkflowRun>();
        while (await reader.ReadAsync(ct))
            result.Add(new WorkflowRun
            {
                RunId = runId,
                Workflow = reader.GetString(0),
                Position = Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture),
                Status = Enum.Parse<RunStatus>(reader.GetString(2)),
                StartedAt = NullableTime(reader, 3),
                EndedAt = NullableTime(reader, 4),
                CommittedAt = NullableTime(reader, 5),
            });
        return result;
    }

    public async Task SaveStepRunAsync(StepRun stepRun, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, """
            INSERT INTO step_runs (run_id, workflow, step_id, kind, status, started_at, ended_at, row_count, error, details_json)
            VALUES (@run, @workflow, @step, @kind, @status, @started, @ended, @rows, @error, @details)
            ON CONFLICT (run_id, workflow, step_id) DO UPDATE SET status = excluded.status, started_at = excluded.started_at,
                ended_at = excluded.ended_at, row_count = excluded.row_count, error = excluded.error, details_json = excluded.details_json
            """, ct, ("run", stepRun.RunId), ("workflow", stepRun.Workflow), ("step", stepRun.StepId), ("kind", stepRun.Kind),
            ("status", stepRun.Status.ToString()), ("started", Time(stepRun.StartedAt)), ("ended", Time(stepRun.EndedAt)),
            ("rows", stepRun.Rows), ("error", stepRun.Error), ("details", stepRun.DetailsJson));
    }

    public async Task<IReadOnlyList<StepRun>> GetStepRunsAsync(string runId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, """
            SELECT s.workflow, s.step_id, s.kind, s.status, s.started_at, s.ended_at, s.row_count, s.error, s.details_json
            FROM step_runs s LEFT JOIN workflow_runs w ON w.run_id = s.run_id AND w.workflow = s.workflow
            WHERE s.run_id = @run ORDER BY COALESCE(w.position, 0), COALESCE(s.started_at, s.ended_at, ''), s.step_id
            """, ("run", runId));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<StepRun>();
        while (await reader.ReadAsync(ct))
            result.Add(new StepRun
            {
                RunId = runId,
                Workflow = reader.GetString(0),
                StepId = reader.GetString(1),
                Kind = reader.GetString(2),
                Status = Enum.Parse<RunStatus>(reader.GetString(3)),
                StartedAt = NullableTime(reader, 4),
                EndedAt = NullableTime(reader, 5),
                Rows = reader.IsDBNull(6) ? null : Convert.ToInt64(reader.GetValue(6), CultureInfo.InvariantCulture),
                Error = NullableString(reader, 7),
                DetailsJson = NullableString(reader, 8),
            });
        return result;
    }

    // ---- logs ----

    public async Task AppendLogAsync(string runId, DateTimeOffset at, string level, string? workflow, string? stepId, string message, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        await ExecuteAsync(connection, transaction, """
            INSERT INTO run_logs (run_id, seq, at, level, workflow, step_id, message)
            VALUES (@run, (SELECT COALESCE(MAX(seq), 0) + 1 FROM run_logs WHERE run_id = @run), @at, @level, @workflow, @step, @message)
            """, ct, ("run", runId), ("at", Time(at)), ("level", level), ("workflow", workflow), ("step", stepId), ("message", message));
        await transaction.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<RunLog>> GetLogsAsync(string runId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null,
            "SELECT seq, at, level, workflow, step_id, message FROM run_logs WHERE run_id = @run ORDER BY seq", ("run", runId));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<RunLog>();
        while (await reader.ReadAsync(ct))
            result.Add(new RunLog(runId, Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture), ParseTime(reader.GetString(1)),
                reader.GetString(2), NullableString(reader, 3), NullableString(reader, 4), reader.GetString(5)));
        return result;
    }
}
