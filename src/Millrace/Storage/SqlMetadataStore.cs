using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Millrace.Storage.Sql;
using static Millrace.Storage.Sql.SqlHelper;

namespace Millrace.Storage;

/// <summary>
/// The one SQL implementation of <see cref="IMetadataStore"/>, on a <see cref="SqlDatabase"/> (the thin per-database
/// part: connections, the write lock, unique violations). SQL is kept portable (named <c>@parameters</c>, ISO-8601 UTC
/// text timestamps that sort as they compare); each dialect has its numbered migrations in <c>Storage/Migrations/</c>.
/// </summary>
public abstract partial class SqlMetadataStore : IMetadataStore
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The library's migrations: <c>Storage/Migrations/{dialect}/NNNN_name.sql</c>, recorded in <c>schema_migrations</c>.</summary>
    public static readonly MigrationSet Migrations = new(typeof(SqlMetadataStore).Assembly, "Millrace.Storage.Migrations", "schema_migrations");

    /// <summary>A store on <paramref name="database"/>, which it owns (disposing the store closes the database).</summary>
    protected SqlMetadataStore(SqlDatabase database) => Database = database;

    public SqlDatabase Database { get; }

    public bool Shared => Database.Shared is not null;

    public virtual async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>True when the database holds Millrace's migration table (false for a new, empty database).</summary>
    public Task<bool> HasSchemaAsync(CancellationToken ct) => Database.HasTableAsync(Migrations.VersionTable, ct);

    public Task MigrateAsync(CancellationToken ct) => Database.MigrateAsync(Migrations, ct);

    Task<DbConnection> OpenAsync(CancellationToken ct) => Database.OpenAsync(ct);

    Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct) => Database.BeginWriteAsync(connection, ct);

    bool IsUniqueViolation(DbException e) => Database.IsUniqueViolation(e);

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
        var now = Database.Clock.GetUtcNow();
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
            """, ("at", Time(Database.Clock.GetUtcNow())));
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
            ("at", Time(Database.Clock.GetUtcNow())), ("run", runId), ("path", stagingPath));
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
        await InsertAnomalyAsync(connection, null, anomaly, ct);
    }

    static Task InsertAnomalyAsync(DbConnection connection, DbTransaction? transaction, Anomaly anomaly, CancellationToken ct) =>
        ExecuteAsync(connection, transaction, """
            INSERT INTO anomalies (id, run_id, workflow, step_id, kind, severity, policy, message, details_json, created_at)
            VALUES (@id, @run, @workflow, @step, @kind, @severity, @policy, @message, @details, @created)
            """, ct, ("id", anomaly.Id), ("run", anomaly.RunId), ("workflow", anomaly.Workflow), ("step", anomaly.StepId), ("kind", anomaly.Kind),
            ("severity", anomaly.Severity.ToString()), ("policy", anomaly.Policy), ("message", anomaly.Message), ("details", anomaly.DetailsJson),
            ("created", Time(anomaly.CreatedAt)));

    public Task<IReadOnlyList<Anomaly>> FindAnomaliesAsync(string? runId, Page page, CancellationToken ct) => FindAnomaliesAsync(runId, null, page, ct);

    public async Task<IReadOnlyList<Anomaly>> FindAnomaliesAsync(string? runId, string? kind, Page page, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        var where = string.Join(" AND ", new[] { runId is null ? null : "run_id = @run", kind is null ? null : "kind = @kind" }.OfType<string>());
        await using var command = Command(connection, null, $"""
            SELECT id, run_id, workflow, step_id, kind, severity, policy, message, details_json, created_at FROM anomalies
            {(where.Length == 0 ? "" : "WHERE " + where)} ORDER BY created_at DESC, id LIMIT {page.Limit} OFFSET {page.Offset}
            """, ("run", runId), ("kind", kind));
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
}
