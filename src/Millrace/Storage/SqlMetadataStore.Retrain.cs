using System.Data.Common;
using System.Globalization;
using static Millrace.Storage.Sql.SqlHelper;

namespace Millrace.Storage;

public abstract partial class SqlMetadataStore
{
    const string RetrainColumns = "run_id, project_id, pipeline, retrain_pipeline, asked, asked_by, reason, triggered_run_id, psi, worst_feature, drift_rows, metric, champion_version, decided_at";

    public async Task<RetrainRecord> DecideRetrainAsync(string projectId, string retrainPipeline, string runId, Func<RetrainRecord?, RetrainRecord> decide, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(decide);
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        if (await ReadRetrainAsync(connection, transaction, "run_id = @run", ct, ("run", runId)) is { } existing) return existing;
        var last = await ReadRetrainAsync(connection, transaction,
            "project_id = @project AND retrain_pipeline = @retrain AND asked = 1 ORDER BY decided_at DESC LIMIT 1", ct, ("project", projectId), ("retrain", retrainPipeline));
        var record = decide(last);
        await ExecuteAsync(connection, transaction, $"""
            INSERT INTO retrain_decisions ({RetrainColumns})
            VALUES (@run, @project, @pipeline, @retrain, @asked, @by, @reason, @triggered, @psi, @feature, @rows, @metric, @champion, @at)
            """, ct, ("run", record.RunId), ("project", record.ProjectId), ("pipeline", record.Pipeline), ("retrain", record.RetrainPipeline),
            ("asked", record.Asked ? 1 : 0), ("by", record.AskedBy), ("reason", record.Reason), ("triggered", record.TriggeredRunId), ("psi", record.Psi),
            ("feature", record.WorstFeature), ("rows", record.DriftRows), ("metric", record.Metric), ("champion", record.ChampionVersion),
            ("at", Time(record.DecidedAt)));
        await transaction.CommitAsync(ct);
        return record;
    }

    public async Task SetRetrainRunAsync(string runId, string triggeredRunId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        await ExecuteAsync(connection, transaction, "UPDATE retrain_decisions SET triggered_run_id = @triggered WHERE run_id = @run", ct,
            ("run", runId), ("triggered", triggeredRunId));
        await transaction.CommitAsync(ct);
    }

    public async Task<RetrainRecord?> GetRetrainDecisionAsync(string runId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await ReadRetrainAsync(connection, null, "run_id = @run", ct, ("run", runId));
    }

    static async Task<RetrainRecord?> ReadRetrainAsync(DbConnection connection, DbTransaction? transaction, string where, CancellationToken ct, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, transaction, $"SELECT {RetrainColumns} FROM retrain_decisions WHERE {where}", parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new RetrainRecord
        {
            RunId = reader.GetString(0), ProjectId = reader.GetString(1), Pipeline = reader.GetString(2), RetrainPipeline = reader.GetString(3),
            Asked = Convert.ToInt64(reader.GetValue(4), CultureInfo.InvariantCulture) != 0, Reason = reader.GetString(6), AskedBy = reader.IsDBNull(5) ? null : reader.GetString(5),
            TriggeredRunId = reader.IsDBNull(7) ? null : reader.GetString(7),
            Psi = reader.IsDBNull(8) ? null : reader.GetDouble(8), WorstFeature = reader.IsDBNull(9) ? null : reader.GetString(9),
            DriftRows = Convert.ToInt64(reader.GetValue(10), CultureInfo.InvariantCulture), Metric = reader.IsDBNull(11) ? null : reader.GetDouble(11),
            ChampionVersion = reader.IsDBNull(12) ? null : Convert.ToInt32(reader.GetValue(12), CultureInfo.InvariantCulture),
            DecidedAt = ParseTime(reader.GetString(13)),
        };
    }
}
