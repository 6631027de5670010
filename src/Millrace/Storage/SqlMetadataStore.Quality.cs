using System.Globalization;
using static Millrace.Storage.Sql.SqlHelper;

namespace Millrace.Storage;

public abstract partial class SqlMetadataStore
{
    public async Task<IReadOnlyList<(DateOnly RunDate, string? DetailsJson)>> GetStepHistoryAsync(string workflow, string stepId, string excludeRunId, int limit, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, $"""
            SELECT r.run_date, s.details_json FROM step_runs s JOIN runs r ON r.id = s.run_id
            JOIN workflow_runs w ON w.run_id = s.run_id AND w.workflow = s.workflow AND w.committed_at IS NOT NULL
            WHERE s.workflow = @w AND s.step_id = @s AND s.status = 'Succeeded' AND r.id <> @exclude
            ORDER BY r.run_date DESC, r.created_at DESC LIMIT {limit}
            """, ("w", workflow), ("s", stepId), ("exclude", excludeRunId));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<(DateOnly, string?)>();
        while (await reader.ReadAsync(ct))
            result.Add((DateOnly.ParseExact(reader.GetString(0), "yyyy-MM-dd", CultureInfo.InvariantCulture), NullableString(reader, 1)));
        return result;
    }

    public async Task AddDriftResultsAsync(IReadOnlyList<DriftResult> results, CancellationToken ct)
    {
        if (results.Count == 0) return;
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        foreach (var r in results)
            await ExecuteAsync(connection, transaction, """
                INSERT INTO drift_results (run_id, workflow, step_id, feature, psi, reference, created_at) VALUES (@run, @w, @s, @f, @psi, @ref, @at)
                ON CONFLICT (run_id, workflow, step_id, feature) DO UPDATE SET psi = excluded.psi, reference = excluded.reference
                """, ct, ("run", r.RunId), ("w", r.Workflow), ("s", r.StepId), ("f", r.Feature), ("psi", r.Psi), ("ref", r.Reference), ("at", Time(r.CreatedAt)));
        await transaction.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<DriftResult>> GetDriftResultsAsync(string runId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null,
            "SELECT workflow, step_id, feature, psi, reference, created_at FROM drift_results WHERE run_id = @run ORDER BY psi DESC", ("run", runId));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<DriftResult>();
        while (await reader.ReadAsync(ct))
            result.Add(new DriftResult(runId, reader.GetString(0), reader.GetString(1), reader.GetString(2),
                Convert.ToDouble(reader.GetValue(3), CultureInfo.InvariantCulture), reader.GetString(4), ParseTime(reader.GetString(5))));
        return result;
    }
}
