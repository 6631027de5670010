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
    /// per range; ML.NET models are safe to share between cursors). With <paramref name="explain"/> N (1 to
    /// <see cref="FeatureContributions.MaxReasons"/>) the table also has <c>reason_1, reason_1_contribution, …</c>
    /// (<see cref="FeatureContributions"/>; <see cref="ModelCannotExplainException"/> before anything is created when
    /// the model cannot explain). Returns the number of rows scored.
    /// </summary>
    public static long Score(MLContext ml, ITransformer model, ModelVersion version, DuckDBConnection connection, string numberedInput, string predictionsTable, int? parallelism = null, int explain = 0)
    {
        var columns = ModelBuilder.ViewColumns(version.Features, version.Task, version.Label, hasLabel: false)
            .Append(new DataViewColumn(RowColumn, FeatureKind.RowNumber, SqlText.Identifier(RowColumn))).ToList();
        var explainer = explain > 0 ? FeatureContributions.For(ml, model, version, new DuckDbDataView(connection, numberedInput, columns, "FALSE"), explain) : null;
        var total = DuckDb.Scalar<long>(connection, $"SELECT COUNT(*) FROM {numberedInput}");
        var labelType = version.Task == ModelTask.Binary ? "BOOLEAN" : "VARCHAR";
        var table = SqlText.Identifier(predictionsTable);
        DuckDb.Execute(connection, $"CREATE TABLE {table} ({RowColumn} BIGINT, score DOUBLE, probability DOUBLE, predicted_label {labelType}{string.Concat(FeatureContributions.Columns(explain).Select(c => $", {c.Name} {c.Type}"))})");
        // Below ~50,000 rows a second cursor costs more than it saves.
        var chunks = (int)Math.Clamp(Math.Min(parallelism ?? Environment.ProcessorCount, total / 50_000), 1, 8);
        var size = (total + chunks - 1) / chunks;
        var parts = Enumerable.Range(0, chunks).Select(i => (From: i * size, To: Math.Min(total, (i + 1) * size))).Where(r => r.To > r.From).ToList();
        // The row number rides through the model's transform with the features, so each prediction carries its row:
        // the ranges are read in whatever order DuckDB yields them (no ORDER BY), and nothing can misalign.
        Parallel.ForEach(parts, new ParallelOptions { MaxDegreeOfParallelism = chunks }, part =>
        {
            using var chunkConnection = connection.Duplicate();
            chunkConnection.Open();
            var view = new DuckDbDataView(chunkConnection, numberedInput, columns, $"{RowColumn} >= {part.From} AND {RowColumn} < {part.To}");
            var scored = model.Transform(view);
            ScoreRange(explainer is null ? scored : explainer.Transform(scored), version.Task, explainer, chunkConnection, predictionsTable);
        });
        return total;
    }

    static void ScoreRange(IDataView scored, ModelTask task, FeatureContributions? explainer, DuckDBConnection connection, string predictionsTable)
    {
        var schema = scored.Schema;
        var rowColumn = schema.GetColumnOrNull(RowColumn) ?? throw new InvalidOperationException($"the model's transform dropped the {RowColumn} column");
        using var cursor = scored.GetRowCursor(schema.Where(c => c.Name is "Score" or "Probability" or "PredictedLabel" or RowColumn or FeatureContributions.Column));
        using var appender = connection.CreateAppender(predictionsTable);
        var rowGetter = cursor.GetGetter<long>(rowColumn);
        long row = 0;
        var reasons = explainer is null ? null : new Reasons(explainer, cursor.GetGetter<VBuffer<float>>(schema[FeatureContributions.Column]));
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
                    appender.CreateRow().AppendValue(row).AppendValue((double)s).AppendValue((double)p).AppendValue(l).Explained(reasons).EndRow();
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
                    appender.CreateRow().AppendValue(row).AppendValue((double)max).AppendValue((double)max).AppendValue(l.ToString()).Explained(reasons).EndRow();
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
                    appender.CreateRow().AppendValue(row).AppendValue((double)s).AppendNullValue().AppendNullValue().Explained(reasons).EndRow();
                }
                break;
            }
        }
    }

    /// <summary>One cursor's reasons: reads the row's contributions and appends its reason columns.</summary>
    sealed class Reasons(FeatureContributions explainer, ValueGetter<VBuffer<float>> getter)
    {
        readonly double[] _sums = explainer.NewBuffer();
        readonly int[] _top = new int[explainer.Count];
        VBuffer<float> _contributions;

        public IDuckDBAppenderRow Append(IDuckDBAppenderRow row)
        {
            getter(ref _contributions);
            var n = explainer.Top(_contributions, _sums, _top);
            for (var i = 0; i < explainer.Count; i++)
                row = i < n ? row.AppendValue(explainer.Feature(_top[i])).AppendValue(_sums[_top[i]]) : row.AppendNullValue().AppendNullValue();
            return row;
        }
    }

    static IDuckDBAppenderRow Explained(this IDuckDBAppenderRow row, Reasons? reasons) => reasons is null ? row : reasons.Append(row);

    /// <summary>Copies <paramref name="input"/> into table <paramref name="name"/> with a <c>__row</c> number in scan order.</summary>
    public static string Number(DuckDBConnection connection, string input, string name)
    {
        DuckDb.Execute(connection, $"CREATE TABLE {SqlText.Identifier(name)} AS SELECT row_number() OVER () - 1 AS {RowColumn}, * FROM {input}");
        return SqlText.Identifier(name);
    }
}
