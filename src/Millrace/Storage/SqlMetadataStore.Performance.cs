using System.Globalization;
using System.Text.Json;
using static Millrace.Storage.Sql.SqlHelper;

namespace Millrace.Storage;

public abstract partial class SqlMetadataStore
{
    public async Task AddPerformanceAsync(IReadOnlyList<PerformancePoint> points, CancellationToken ct)
    {
        if (points.Count == 0) return;
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        foreach (var point in points)
        {
            // JSON has no NaN or infinity: a metric that is not a number (e.g. AUC of one class) is left out.
            var metrics = point.Metrics.Where(m => double.IsFinite(m.Value)).ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal);
            await ExecuteAsync(connection, transaction, """
                INSERT INTO model_performance (project_id, model, version, variant, score_date, metrics, scored_rows, labelled_rows, run_id, recorded_at)
                VALUES (@project, @model, @version, @variant, @date, @metrics, @scored, @labelled, @run, @recorded)
                ON CONFLICT (project_id, model, version, variant, score_date) DO UPDATE SET
                    metrics = excluded.metrics, scored_rows = excluded.scored_rows, labelled_rows = excluded.labelled_rows,
                    run_id = excluded.run_id, recorded_at = excluded.recorded_at
                """, ct, ("project", point.ProjectId), ("model", point.Model), ("version", point.Version), ("variant", point.Variant.ToString()),
                ("date", DateText(point.ScoreDate)), ("metrics", JsonSerializer.Serialize(metrics, Json)), ("scored", point.ScoredRows),
                ("labelled", point.LabelledRows), ("run", point.RunId), ("recorded", Time(point.RecordedAt)));
        }
        await transaction.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<PerformancePoint>> ListPerformanceAsync(string projectId, string model, int? version, DateOnly? from, DateOnly? to, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, $"""
            SELECT project_id, model, version, variant, score_date, metrics, scored_rows, labelled_rows, run_id, recorded_at FROM model_performance
            WHERE project_id = @project AND model = @model {(version is null ? "" : "AND version = @version")}
              {(from is null ? "" : "AND score_date >= @from")} {(to is null ? "" : "AND score_date <= @to")}
            ORDER BY score_date, version, variant
            """, ("project", projectId), ("model", model), ("version", version),
            ("from", from is { } f ? DateText(f) : null), ("to", to is { } t ? DateText(t) : null));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<PerformancePoint>();
        while (await reader.ReadAsync(ct))
            result.Add(new PerformancePoint
            {
                ProjectId = reader.GetString(0), Model = reader.GetString(1), Version = Convert.ToInt32(reader.GetValue(2), CultureInfo.InvariantCulture),
                Variant = Enum.Parse<PredictionVariant>(reader.GetString(3)),
                ScoreDate = DateOnly.ParseExact(reader.GetString(4), "yyyy-MM-dd", CultureInfo.InvariantCulture),
                Metrics = JsonSerializer.Deserialize<Dictionary<string, double>>(reader.GetString(5), Json) ?? [],
                ScoredRows = Convert.ToInt64(reader.GetValue(6), CultureInfo.InvariantCulture), LabelledRows = Convert.ToInt64(reader.GetValue(7), CultureInfo.InvariantCulture),
                RunId = reader.GetString(8), RecordedAt = ParseTime(reader.GetString(9)),
            });
        return result;
    }
}
