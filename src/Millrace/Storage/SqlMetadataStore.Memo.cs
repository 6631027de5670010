using System.Data.Common;
using static Millrace.Storage.Sql.SqlHelper;

namespace Millrace.Storage;

public abstract partial class SqlMetadataStore
{
    const string FingerprintColumns = "f.run_id, f.workflow, f.fingerprint, f.inputs_json, f.same_as_run_id, f.created_at";

    public async Task SaveFingerprintAsync(WorkflowFingerprint fingerprint, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        await ExecuteAsync(connection, transaction, """
            INSERT INTO workflow_fingerprints (run_id, workflow, fingerprint, inputs_json, same_as_run_id, created_at)
            VALUES (@run, @w, @f, @inputs, @same, @at)
            ON CONFLICT (run_id, workflow) DO UPDATE SET fingerprint = excluded.fingerprint, inputs_json = excluded.inputs_json,
                same_as_run_id = excluded.same_as_run_id, created_at = excluded.created_at
            """, ct, ("run", fingerprint.RunId), ("w", fingerprint.Workflow), ("f", fingerprint.Fingerprint), ("inputs", fingerprint.InputsJson),
            ("same", fingerprint.SameAsRunId), ("at", Time(fingerprint.CreatedAt)));
        await transaction.CommitAsync(ct);
    }

    public async Task<WorkflowFingerprint?> GetLatestFingerprintAsync(string projectId, string workflow, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return (await QueryFingerprintsAsync(connection, $"""
            SELECT {FingerprintColumns} FROM workflow_fingerprints f JOIN runs r ON r.id = f.run_id
            WHERE f.workflow = @w AND r.project_id = @p ORDER BY f.created_at DESC, f.run_id DESC LIMIT 1
            """, ct, ("w", workflow), ("p", projectId))).SingleOrDefault();
    }

    public async Task<IReadOnlyList<WorkflowFingerprint>> GetFingerprintsAsync(string runId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await QueryFingerprintsAsync(connection, $"SELECT {FingerprintColumns} FROM workflow_fingerprints f WHERE f.run_id = @run ORDER BY f.created_at, f.workflow", ct, ("run", runId));
    }

    async Task<IReadOnlyList<WorkflowFingerprint>> QueryFingerprintsAsync(DbConnection connection, string sql, CancellationToken ct, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, null, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<WorkflowFingerprint>();
        while (await reader.ReadAsync(ct))
            result.Add(new WorkflowFingerprint(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), NullableString(reader, 4), ParseTime(reader.GetString(5))));
        return result;
    }
}
