using DuckDB.NET.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using Millrace.Internal;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Learning;

/// <summary>
/// Scores a DuckDB relation with a model: the input streams to ML.NET through a <see cref="DuckDbDataView"/>, the
/// predictions stream back through DuckDB's appender into a table aligned by row number, and one join adds them to
/// the input columns. No row objects on either side. Each prediction carries its input's row number through the
/// model's transform, so the rows may be read in any order.
/// </summary>
public static class ModelScorer
{
    /// <summary>Row-number column used to align predictions with the input.</summary>
    public const string RowColumn = "__row";

    /// <summary>
    /// Creates table <paramref name="predictionsTable"/> (<c>__row, score, probability, predicted_label</c>) with the
    /// predictions of <paramref name="model"/> for <paramref name="numberedInput"/>, a table whose <c>__row</c> runs
    /// from 0 to rows - 1. The rows are scored in contiguous ranges in parallel (one cursor, connection and appender
    /// per range; ML.NET models are safe to share between cursors). Returns the number of rows scored.
    /// </summary>
    public static long Score(MLContext ml, ITransformer model, ModelVersion version, DuckDBConnection connection, string numberedInput, string predictionsTable, int? parallelism = null)
    {
        var total = DuckDb.Scalar<long>(connection, $"SELECT COUNT(*) FROM {numberedInput}");
        var labelType = version.Task == ModelTask.Binary ? "BOOLEAN" : "VARCHAR";
        var table = SqlText.Identifier(predictionsTable);
        DuckDb.Execute(connection, $"CREATE TABLE {table} ({RowColumn} BIGINT, score DOUBLE, probability DOUBLE, predicted_label {labelType})");
        // Below ~50,000 rows a second cursor costs more than it saves.
        var chunks = (int)Math.Clamp(Math.Min(parallelism ?? Environment.ProcessorCount, total / 50_000), 1, 8);
        var size = (total + chunks - 1) / chunks;
        var parts = Enumerable.Range(0, chunks).Select(i => (From: i * size, To: Math.Min(total, (i + 1) * size))).Where(r => r.To > r.From).ToList();
        // The row number rides through the model's transform with the features, so each prediction carries its row:
        // the ranges are read in whatever order DuckDB yields them (no ORDER BY), and nothing can misalign.
        var columns = ModelBuilder.ViewColumns(version.Features, version.Task, version.Label, hasLabel: false)
            .Append(new DataViewColumn(RowColumn, FeatureKind.RowNumber, SqlText.Identifier(RowColumn))).ToList();
        Parallel.ForEach(parts, new ParallelOptions { MaxDegreeOfParallelism = chunks }, part =>
        {
            using var chunkConnection = connection.Duplicate();
            chunkConnection.Open();
            var view = new DuckDbDataView(chunkConnection, numberedInput, columns, $"{RowColumn} >= {part.From} AND {RowColumn} < {part.To}");
            ScoreRange(model.Transform(view), version.Task, chunkConnection, predictionsTable);
        });
        return total;
    }

    static void ScoreRange(IDataView scored, ModelTask task, DuckDBConnection connection, string predictionsTable)
    {
        var schema = scored.Schema;
        var rowColumn = schema.GetColumnOrNull(RowColumn) ?? throw new InvalidOperationException($"the model's transform dropped the {RowColumn} column");
        using var cursor = scored.GetRowCursor(schema.Where(c => c.Name is "Score" or "Probability" or "PredictedLabel" or RowColumn));
        using var appender = connection.CreateAppender(predictionsTable);
        var rowGetter = cursor.GetGetter<long>(rowColumn);
        long row = 0;
        switch (task)
        {
            case ModelTask.Binary:
            {
                var score = cursor.GetGetter<float>(schema["Score"]);
                var probability = cursor.GetGetter<float>(schema["Probability"]);
                var label = cursor.GetGetter<bool>(schema["PredictedLabel"]);
                float s = 0, p = 0;
                var l = false;
                while (cursor.MoveNext())
                {
                    score(ref s); probability(ref p); label(ref l); rowGetter(ref row);
                    appender.CreateRow().AppendValue(row).AppendValue((double)s).AppendValue((double)p).AppendValue(l).EndRow();
                }
                break;
            }
            case ModelTask.Multiclass:
            {
                var score = cursor.GetGetter<VBuffer<float>>(schema["Score"]);
                var label = cursor.GetGetter<ReadOnlyMemory<char>>(schema["PredictedLabel"]);
                var s = default(VBuffer<float>);
                var l = default(ReadOnlyMemory<char>);
                while (cursor.MoveNext())
                {
                    score(ref s); label(ref l); rowGetter(ref row);
                    var max = s.DenseValues().DefaultIfEmpty(float.NaN).Max();
                    appender.CreateRow().AppendValue(row).AppendValue((double)max).AppendValue((double)max).AppendValue(l.ToString()).EndRow();
                }
                break;
            }
            default:
            {
                var score = cursor.GetGetter<float>(schema["Score"]);
                float s = 0;
                while (cursor.MoveNext())
                {
                    score(ref s); rowGetter(ref row);
                    appender.CreateRow().AppendValue(row).AppendValue((double)s).AppendNullValue().AppendNullValue().EndRow();
                }
                break;
            }
        }
    }

    /// <summary>Copies <paramref name="input"/> into table <paramref name="name"/> with a <c>__row</c> number in scan order.</summary>
    public static string Number(DuckDBConnection connection, string input, string name)
    {
        DuckDb.Execute(connection, $"CREATE TABLE {SqlText.Identifier(name)} AS SELECT row_number() OVER () - 1 AS {RowColumn}, * FROM {input}");
        return SqlText.Identifier(name);
    }
}
