using System.Data.Common;
using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace Millrace.Storage;

/// <summary>
/// The one SQL implementation of <see cref="IMetadataStore"/>. A database plugs in through a small dialect:
/// how to open a connection, where its migrations are, and how it reports a unique-key violation.
/// SQL is kept portable (named <c>@parameters</c>, ISO-8601 UTC text timestamps that sort as they compare).
/// </summary>
public abstract partial class SqlMetadataStore : IMetadataStore
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Folder name of this dialect's migrations under <c>Storage/Migrations/</c>.</summary>
    protected abstract string MigrationsFolder { get; }

    /// <summary>Opens a connection ready for use.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>True when <paramref name="e"/> is a unique or primary-key violation.</summary>
    protected abstract bool IsUniqueViolation(DbException e);

    /// <summary>SQL that starts a transaction which takes the write lock at once (SQLite: BEGIN IMMEDIATE).</summary>
    protected virtual Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct) =>
        connection.BeginTransactionAsync(ct).AsTask();

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>True when the database holds Millrace's migration table (false for a new, empty database).</summary>
    public async Task<bool> HasSchemaAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        try
        {
            await using var command = Command(connection, null, "SELECT COUNT(*) FROM schema_migrations");
            await command.ExecuteScalarAsync(ct);
            return true;
        }
        catch (DbException)
        {
            return false; // no such table
        }
    }

    public async Task MigrateAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)", ct);
        var applied = new HashSet<int>();
        await using (var command = Command(connection, null, "SELECT version FROM schema_migrations"))
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) applied.Add(Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture));

        foreach (var (version, name, sql) in Migrations())
        {
            if (applied.Contains(version)) continue;
            await using var transaction = await BeginWriteAsync(connection, ct);
            // Another process may have applied it while we waited for the lock.
            await using (var check = Command(connection, transaction, "SELECT COUNT(*) FROM schema_migrations WHERE version = @v", ("v", version)))
                if (Convert.ToInt64(await check.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture) > 0) { await transaction.RollbackAsync(ct); continue; }
            await ExecuteAsync(connection, transaction, sql, ct);
            await ExecuteAsync(connection, transaction, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @t)", ct, ("v", version), ("n", name), ("t", Time(DateTimeOffset.UtcNow)));
            await transaction.CommitAsync(ct);
        }
    }

    IEnumerable<(int Version, string Name, string Sql)> Migrations()
    {
        var assembly = typeof(SqlMetadataStore).Assembly;
        var prefix = $"Millrace.Storage.Migrations.{MigrationsFolder}.";
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var name = resource[prefix.Length..];
            var version = int.Parse(name[..name.IndexOf('_', StringComparison.Ordinal)].TrimStart('_'), CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            yield return (version, name, reader.ReadToEnd());
        }
    }

    // ---- datasets ----

    const string DatasetColumns = "dataset, version, run_id, workflow, step_id, created_at, row_count, files_json, schema_json, operation, uniform_schema";

    public async Task<DatasetVersion?> GetDatasetVersionAsync(string dataset, int? version, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        var sql = version is null
            ? $"SELECT {DatasetColumns} FROM dataset_versions WHERE dataset = @d ORDER BY version DESC LIMIT 1"
            : $"SELECT {DatasetColumns} FROM dataset_versions WHERE dataset = @d AND version = @v";
        return (await QueryDatasetVersionsAsync(connection, null, sql, ct, ("d", dataset), ("v", version))).SingleOrDefault();
    }

    public async Task<IReadOnlyList<DatasetVersion>> ListDatasetVersionsAsync(string dataset, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await QueryDatasetVersionsAsync(connection, null, $"SELECT {DatasetColumns} FROM dataset_versions WHERE dataset = @d ORDER BY version DESC", ct, ("d", dataset));
    }

    public async Task<IReadOnlyList<DatasetVersion>> ListDatasetsAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await QueryDatasetVersionsAsync(connection, null, $"""
            SELECT {DatasetColumns} FROM dataset_versions v
            WHERE version = (SELECT MAX(version) FROM dataset_versions m WHERE m.dataset = v.dataset) ORDER BY dataset
            """, ct);
    }

    async Task<IReadOnlyList<DatasetVersion>> QueryDatasetVersionsAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken ct, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<DatasetVersion>();
        while (await reader.ReadAsync(ct))
            result.Add(new DatasetVersion
            {
                Dataset = reader.GetString(0),
                Version = Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture),
                RunId = reader.GetString(2),
                Workflow = reader.GetString(3),
                StepId = reader.GetString(4),
                CreatedAt = ParseTime(reader.GetString(5)),
                Rows = Convert.ToInt64(reader.GetValue(6), CultureInfo.InvariantCulture),
                Files = JsonSerializer.Deserialize<List<string>>(reader.GetString(7), Json)!,
                Schema = JsonSerializer.Deserialize<List<ColumnSchema>>(reader.GetString(8), Json)!,
                Operation = reader.GetString(9),
                UniformSchema = Convert.ToInt64(reader.GetValue(10), CultureInfo.InvariantCulture) != 0,
            });
        return result;
    }

    // ---- commit ----

    public async Task CommitAsync(WorkflowCommit commit, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        await CheckStillRunningAsync(connection, transaction, commit.RunId, ct);
        var now = DateTimeOffset.UtcNow;
        foreach (var (version, baseVersion) in commit.DatasetVersions)
        {
            await using (var check = Command(connection, transaction, "SELECT MAX(version) FROM dataset_versions WHERE dataset = @d", ("d", version.Dataset)))
            {
                var current = await check.ExecuteScalarAsync(ct) is { } v and not DBNull ? Convert.ToInt32(v, CultureInfo.InvariantCulture) : (int?)null;
                if (current != baseVersion)
                    throw new CommitConflictException(
                        $"dataset '{version.Dataset}' changed while run {commit.RunId} was running: it read version {baseVersion?.ToString(CultureInfo.InvariantCulture) ?? "none"}, " +
                        $"the latest is now v{current}. Nothing was committed; rerun the workflow.");
            }
            try
            {
                await ExecuteAsync(connection, transaction, $"""
                    INSERT INTO dataset_versions ({DatasetColumns})
                    VALUES (@d, @v, @run, @workflow, @step, @created, @rows, @files, @schema, @operation, @uniform)
                    """, ct, ("d", version.Dataset), ("v", version.Version), ("run", version.RunId), ("workflow", version.Workflow),
                    ("step", version.StepId), ("created", Time(now)), ("rows", version.Rows),
                    ("files", JsonSerializer.Serialize(version.Files, Json)), ("schema", JsonSerializer.Serialize(version.Schema, Json)),
                    ("operation", version.Operation), ("uniform", version.UniformSchema ? 1 : 0));
            }
            catch (DbException e) when (IsUniqueViolation(e))
            {
                throw new CommitConflictException($"dataset '{version.Dataset}' v{version.Version} was committed by another run first; nothing was committed, rerun the workflow.");
            }
        }
        foreach (var mark in commit.Watermarks)
        {
            // Another run committed this very file (same size and time) since this run listed it: taking it again
            // would ingest it twice.
            await using (var check = mark.ETag is null
                ? Command(connection, transaction,
                    "SELECT run_id FROM watermark_files WHERE workflow = @w AND step_id = @s AND path = @p AND size = @size AND modified = @modified",
                    ("w", mark.Workflow), ("s", mark.StepId), ("p", mark.Path), ("size", mark.Size), ("modified", Time(mark.Modified)))
                : Command(connection, transaction,
                    "SELECT run_id FROM watermark_files WHERE workflow = @w AND step_id = @s AND path = @p AND etag = @etag",
                    ("w", mark.Workflow), ("s", mark.StepId), ("p", mark.Path), ("etag", mark.ETag)))
                if (await check.ExecuteScalarAsync(ct) is string other && other != commit.RunId)
                    throw new CommitConflictException($"file {mark.Path} was already committed by run {other} while run {commit.RunId} was running; nothing was committed");
            await ExecuteAsync(connection, transaction, """
                INSERT INTO watermark_files (workflow, step_id, path, size, modified, run_id, committed_at, etag)
                VALUES (@workflow, @step, @path, @size, @modified, @run, @at, @etag)
                ON CONFLICT (workflow, step_id, path) DO UPDATE SET size = excluded.size, modified = excluded.modified,
                    run_id = excluded.run_id, committed_at = excluded.committed_at, etag = excluded.etag
                """, ct, ("workflow", mark.Workflow), ("step", mark.StepId), ("path", mark.Path), ("size", mark.Size),
                ("modified", Time(mark.Modified)), ("run", mark.RunId), ("at", Time(now)), ("etag", mark.ETag));
        }
        await CommitModelsAsync(connection, transaction, commit, now, ct);
        foreach (var file in commit.StagedFiles)
            await ExecuteAsync(connection, transaction, """
                INSERT INTO published_files (run_id, workflow, staging_path, final_path) VALUES (@run, @workflow, @staging, @final)
                ON CONFLICT (run_id, staging_path) DO NOTHING
                """, ct, ("run", commit.RunId), ("workflow", commit.Workflow), ("staging", file.StagingPath), ("final", file.FinalPath));
        await ExecuteAsync(connection, transaction,
            "UPDATE workflow_runs SET committed_at = @at WHERE run_id = @run AND workflow = @workflow", ct,
            ("at", Time(now)), ("run", commit.RunId), ("workflow", commit.Workflow));
        await transaction.CommitAsync(ct);
    }

    public async Task<int> MarkSupersededFilesAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        await using var command = Command(connection, transaction, """
            UPDATE published_files SET published_at = @at
            WHERE published_at IS NULL AND EXISTS (
                SELECT 1 FROM published_files later
                JOIN workflow_runs wl ON wl.run_id = later.run_id AND wl.workflow = later.workflow
                JOIN workflow_runs wo ON wo.run_id = published_files.run_id AND wo.workflow = published_files.workflow
                WHERE later.final_path = published_files.final_path AND wl.committed_at > wo.committed_at)
            """, ("at", Time(DateTimeOffset.UtcNow)));
        var superseded = await command.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
        return superseded;
    }

    public async Task<IReadOnlyList<(string RunId, StagedFile File)>> GetUnpublishedFilesAsync(CancellationToken ct) =>
        (await FindUnpublishedFilesAsync(ct)).Select(f => (f.RunId, f.File)).ToList();

    public async Task MarkPublishedAsync(string runId, string stagingPath, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, "UPDATE published_files SET published_at = @at WHERE run_id = @run AND staging_path = @path", ct,
            ("at", Time(DateTimeOffset.UtcNow)), ("run", runId), ("path", stagingPath));
    }

    // ---- watermarks, anomalies, ownership, gc ----

    public async Task<IReadOnlyDictionary<string, WatermarkFile>> GetWatermarkAsync(string workflow, string stepId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null,
            "SELECT path, size, modified, run_id, etag FROM watermark_files WHERE workflow = @w AND step_id = @s", ("w", workflow), ("s", stepId));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new Dictionary<string, WatermarkFile>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
        {
            var path = reader.GetString(0);
            result[path] = new WatermarkFile(workflow, stepId, path, Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture), ParseTime(reader.GetString(2)), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4));
        }
        return result;
    }

    public async Task AddAnomalyAsync(Anomaly anomaly, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, """
            INSERT INTO anomalies (id, run_id, workflow, step_id, kind, severity, policy, message, details_json, created_at)
            VALUES (@id, @run, @workflow, @step, @kind, @severity, @policy, @message, @details, @created)
            """, ct, ("id", anomaly.Id), ("run", anomaly.RunId), ("workflow", anomaly.Workflow), ("step", anomaly.StepId), ("kind", anomaly.Kind),
            ("severity", anomaly.Severity.ToString()), ("policy", anomaly.Policy), ("message", anomaly.Message), ("details", anomaly.DetailsJson),
            ("created", Time(anomaly.CreatedAt)));
    }

    public async Task<IReadOnlyList<Anomaly>> FindAnomaliesAsync(string? runId, Page page, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, $"""
            SELECT id, run_id, workflow, step_id, kind, severity, policy, message, details_json, created_at FROM anomalies
            {(runId is null ? "" : "WHERE run_id = @run")} ORDER BY created_at DESC, id LIMIT {page.Limit} OFFSET {page.Offset}
            """, ("run", runId));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<Anomaly>();
        while (await reader.ReadAsync(ct))
            result.Add(new Anomaly
            {
                Id = reader.GetString(0), RunId = reader.GetString(1), Workflow = NullableString(reader, 2), StepId = NullableString(reader, 3),
                Kind = reader.GetString(4), Severity = Enum.Parse<AnomalySeverity>(reader.GetString(5)), Policy = reader.GetString(6),
                Message = reader.GetString(7), DetailsJson = NullableString(reader, 8), CreatedAt = ParseTime(reader.GetString(9)),
            });
        return result;
    }

    public async Task SetRunOwnerAsync(string runId, string owner, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, "UPDATE runs SET owner = @owner WHERE id = @id", ct, ("owner", owner), ("id", runId));
    }

    public async Task<IReadOnlyList<(Run Run, string? Owner)>> GetRunningRunsAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        var runs = await QueryRunsAsync(connection, "WHERE status = 'Running'", new Page(0, 10_000), ct);
        var owners = new Dictionary<string, string?>(StringComparer.Ordinal);
        await using (var command = Command(connection, null, "SELECT id, owner FROM runs WHERE status = 'Running'"))
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) owners[reader.GetString(0)] = NullableString(reader, 1);
        return runs.Select(r => (r, owners.GetValueOrDefault(r.Id))).ToList();
    }

    public async Task<IReadOnlySet<string>> GetReferencedDatasetFilesAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, "SELECT files_json FROM dataset_versions");
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct)) result.UnionWith(JsonSerializer.Deserialize<List<string>>(reader.GetString(0), Json)!);
        return result;
    }

    // ---- helpers ----

    protected static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    protected static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken ct, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        await command.ExecuteNonQueryAsync(ct);
    }

    static string? Time(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
    static DateTimeOffset ParseTime(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
    static DateTimeOffset? NullableTime(DbDataReader reader, int i) => reader.IsDBNull(i) ? null : ParseTime(reader.GetString(i));
    static string? NullableString(DbDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
}
