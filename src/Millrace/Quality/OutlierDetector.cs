using DuckDB.NET.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Transforms;
using Millrace.Internal;
using Millrace.Learning;
using Millrace.Parameters;

namespace Millrace.Quality;

/// <summary>How a row-outlier model is fitted.</summary>
/// <param name="Rank">Principal components kept: the dimension of the "normal" subspace.</param>
/// <param name="Oversampling">Extra random projections for the randomized SVD (more is more accurate, slower).</param>
/// <param name="Seed">Seed of the random projections: the same data and seed give the same scores.</param>
public sealed record OutlierSettings(int Rank, int Oversampling, int Seed);

/// <summary>
/// Row-level outliers with ML.NET's RandomizedPca: missing values are imputed with the column mean, features are
/// scaled to zero mean and unit variance, and a PCA of rank <c>rank</c> is fitted on the rows. A row's score is its
/// reconstruction error: its distance from the PCA subspace, in standard deviations of the scaled features. Rows that
/// break the usual relations between the features score high. (ML.NET's own PCA score divides that distance by the
/// row's distance from the mean, which ranks ordinary rows close to the average as outliers; the model's eigenvectors
/// and mean are used here instead.) Data streams from DuckDB through a <see cref="DuckDbDataView"/> and scores stream
/// back through DuckDB's appender, in parallel row ranges, as <see cref="ModelScorer"/> does: no row objects on either side.
/// </summary>
public static class OutlierDetector
{
    /// <summary>Row-number column that aligns the scores with the input.</summary>
    public const string RowColumn = ModelScorer.RowColumn;

    /// <summary>
    /// Fits the model on <paramref name="numberedInput"/> (a table whose <c>__row</c> runs from 0 to rows - 1) over
    /// <paramref name="features"/> (numeric or boolean columns) and creates <paramref name="scoresTable"/>
    /// (<c>__row, score</c>) with every row's score. Returns the number of rows scored.
    /// </summary>
    public static long Score(DuckDBConnection connection, string numberedInput, IReadOnlyList<(string Name, bool IsBoolean)> features,
        OutlierSettings settings, string scoresTable, CancellationToken ct)
    {
        // Positional names keep user column names (which may be anything, even "Features") away from ML.NET's.
        var names = features.Select((_, i) => $"f{i}").ToArray();
        var columns = features.Select((f, i) => new DataViewColumn(names[i], FeatureKind.Numeric, f.IsBoolean
            ? $"CAST(CAST({SqlText.Identifier(f.Name)} AS INTEGER) AS FLOAT)"
            : $"CAST({SqlText.Identifier(f.Name)} AS FLOAT)")).ToList();
        var ml = new MLContext(seed: settings.Seed);
        var preparation = ml.Transforms.ReplaceMissingValues(names.Select(n => new InputOutputColumnPair(n)).ToArray(), MissingValueReplacingEstimator.ReplacementMode.Mean)
            .Append(ml.Transforms.Concatenate("Features", names))
            .Append(ml.Transforms.NormalizeMeanVariance("Features", fixZero: false));
        var trainer = ml.AnomalyDetection.Trainers.RandomizedPca(new RandomizedPcaTrainer.Options
        {
            FeatureColumnName = "Features",
            Rank = settings.Rank,
            Oversampling = settings.Oversampling,
            EnsureZeroMean = true,
            Seed = settings.Seed,
        });
        ct.ThrowIfCancellationRequested();
        var training = new DuckDbDataView(connection, numberedInput, columns);
        var prepare = preparation.Fit(training);
        ct.ThrowIfCancellationRequested();
        var pca = trainer.Fit(prepare.Transform(training)).Model;
        var subspace = Subspace.Of(pca);

        var total = DuckDb.Scalar<long>(connection, $"SELECT COUNT(*) FROM {numberedInput}");
        DuckDb.Execute(connection, $"CREATE TABLE {SqlText.Identifier(scoresTable)} ({RowColumn} BIGINT, score DOUBLE)");
        // Below ~50,000 rows a second cursor costs more than it saves.
        var chunks = (int)Math.Clamp(Math.Min(Environment.ProcessorCount, total / 50_000), 1, 8);
        var size = (total + chunks - 1) / chunks;
        var parts = Enumerable.Range(0, chunks).Select(i => (From: i * size, To: Math.Min(total, (i + 1) * size))).Where(r => r.To > r.From).ToList();
        Parallel.ForEach(parts, new ParallelOptions { MaxDegreeOfParallelism = chunks, CancellationToken = ct }, part =>
        {
            using var chunkConnection = connection.Duplicate();
            chunkConnection.Open();
            var view = new DuckDbDataView(chunkConnection, numberedInput, columns, $"{RowColumn} >= {part.From} AND {RowColumn} < {part.To}", RowColumn);
            var prepared = prepare.Transform(view);
            using var cursor = prepared.GetRowCursor(prepared.Schema.Where(c => c.Name == "Features"));
            var getFeatures = cursor.GetGetter<VBuffer<float>>(prepared.Schema["Features"]);
            using var appender = chunkConnection.CreateAppender(scoresTable);
            var vector = default(VBuffer<float>);
            var centered = new double[subspace.Mean.Length];
            var row = part.From;
            while (cursor.MoveNext())
            {
                if ((row & 0xFFFF) == 0) ct.ThrowIfCancellationRequested();
                getFeatures(ref vector);
                appender.CreateRow().AppendValue(row++).AppendValue(subspace.Distance(vector, centered)).EndRow();
            }
        });
        return total;
    }

    /// <summary>The fitted PCA: the mean and the orthonormal eigenvectors that span the "normal" subspace.</summary>
    sealed record Subspace(double[] Mean, double[][] Axes)
    {
        public static Subspace Of(PcaModelParameters model)
        {
            var mean = default(VBuffer<float>);
            model.GetMean(ref mean);
            var vectors = Array.Empty<VBuffer<float>>();
            model.GetEigenVectors(ref vectors, out var rank);
            return new Subspace(
                mean.DenseValues().Select(v => (double)v).ToArray(),
                vectors.Take(rank).Select(v => v.DenseValues().Select(x => (double)x).ToArray()).ToArray());
        }

        /// <summary>The length of the part of <paramref name="vector"/> (less the mean) that the axes do not explain.</summary>
        public double Distance(in VBuffer<float> vector, double[] centered)
        {
            var i = 0;
            var squared = 0.0;
            foreach (var value in vector.DenseValues())
            {
                centered[i] = value - Mean[i];
                squared += centered[i] * centered[i];
                i++;
            }
            foreach (var axis in Axes)
            {
                var component = 0.0;
                for (var j = 0; j < axis.Length; j++) component += axis[j] * centered[j];
                squared -= component * component;
            }
            return Math.Sqrt(Math.Max(0, squared));
        }
    }
}
