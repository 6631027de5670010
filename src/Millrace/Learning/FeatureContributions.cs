using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Millrace.Storage;

namespace Millrace.Learning;

/// <summary>A model whose predictions cannot be explained (multiclass, or a trainer without feature contributions). The message names the model and its trainer.</summary>
public sealed class ModelCannotExplainException(string message) : Exception(message);

/// <summary>One reason for a prediction: an input column and its contribution to the model's raw score.</summary>
public sealed record Reason(string Feature, double Contribution);

/// <summary>
/// Per-row explanations with ML.NET's feature contribution calculation, over every slot of the <c>Features</c>
/// vector and un-normalized, summed back to the input columns of the feature plan (the one-hot or hashed slots of a
/// categorical column, the parts of a date), then the <c>count</c> columns with the largest absolute contribution.
/// For linear models a slot's contribution is weight × (normalized) value, so the contributions plus the bias are the
/// raw score; for tree ensembles it is, summed over the trees and the nodes of the row's path that split on the
/// slot, the row's leaf value minus the leaf value the row reaches when that one decision is reversed (not additive).
/// Binary and regression models only (ML.NET has no contributions for multiclass models).
/// </summary>
public sealed class FeatureContributions
{
    /// <summary>Most reasons per row (a definition's <c>explain</c>, the API's <c>?explain=</c>).</summary>
    public const int MaxReasons = 20;

    /// <summary>The column ML.NET writes the contributions to (a vector like <c>Features</c>).</summary>
    public const string Column = "FeatureContributions";

    readonly ITransformer _calculator;
    readonly int[] _owner;
    readonly string[] _names;
    readonly int[] _rank;

    FeatureContributions(ITransformer calculator, int[] owner, string[] names, int count)
    {
        _calculator = calculator;
        _owner = owner;
        _names = names;
        Count = count;
        // Ties in |contribution| go to the name that sorts first.
        _rank = new int[names.Length];
        var order = Enumerable.Range(0, names.Length).OrderBy(i => names[i], StringComparer.Ordinal).ToArray();
        for (var r = 0; r < order.Length; r++) _rank[order[r]] = r;
    }

    /// <summary>Reasons per row (1 to <see cref="MaxReasons"/>).</summary>
    public int Count { get; }

    /// <summary>The input column (feature) of index <paramref name="feature"/>.</summary>
    public string Feature(int feature) => _names[feature];

    /// <summary>The output columns and their DuckDB types: <c>reason_1 VARCHAR, reason_1_contribution DOUBLE, …, reason_N, reason_N_contribution</c>.</summary>
    public static IEnumerable<(string Name, string Type)> Columns(int count) =>
        Enumerable.Range(1, count).SelectMany(i => new[] { ($"reason_{i}", "VARCHAR"), ($"reason_{i}_contribution", "DOUBLE") });

    /// <summary>
    /// The calculator for <paramref name="model"/> (of <paramref name="version"/>) on data shaped like
    /// <paramref name="input"/>; <see cref="ModelCannotExplainException"/> when the model cannot explain.
    /// </summary>
    public static FeatureContributions For(MLContext ml, ITransformer model, ModelVersion version, IDataView input, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxReasons);
        var name = $"{version.Name}@v{version.Version}";
        if (version.Task == ModelTask.Multiclass)
            throw new ModelCannotExplainException($"model {name} (multiclass, {version.Algorithm}) cannot explain its predictions: ML.NET computes feature contributions for binary and regression models only");
        var predictor = (model as IEnumerable<ITransformer> ?? [model]).OfType<ISingleFeaturePredictionTransformer<object>>().LastOrDefault();
        if (predictor?.Model is not ICalculateFeatureContribution parameters)
            throw new ModelCannotExplainException($"model {name} ({version.Task.ToString().ToLowerInvariant()}, {version.Algorithm}) cannot explain its predictions: its trainer's model ({predictor?.Model.GetType().Name ?? "none found"}) has no feature contributions in ML.NET");
        // A loaded model's prediction transformer is typed by an interface its parameters implement, not by their
        // class, so ML.NET's calculator, which asks for ICalculateFeatureContribution in the type, gets it through a view.
        var explainable = new Explainable(predictor, parameters);
        var scored = model.Transform(input);
        var schema = scored.Schema;
        var slots = Size(schema[explainable.FeatureColumnName].Type);
        var owner = new List<int>(slots);
        for (var f = 0; f < version.Features.Count; f++)
            foreach (var column in FeaturePlan.Columns(version.Features[f]))
                owner.AddRange(Enumerable.Repeat(f, Size(schema[column.Name].Type)));
        if (owner.Count != slots)
            throw new InvalidOperationException($"model {name}: its features make {owner.Count} slots, its Features vector has {slots}");
        // Every slot, both signs: the top reasons are by input column, so no slot may be dropped before the sums.
        var calculator = ml.Transforms.CalculateFeatureContribution(explainable, numberOfPositiveContributions: slots, numberOfNegativeContributions: slots, normalize: false).Fit(scored);
        return new FeatureContributions(calculator, [.. owner], [.. version.Features.Select(f => f.Name)], count);
    }

    /// <summary>The slots a column makes in the Features vector: its vector's size, or 1 for a scalar.</summary>
    static int Size(DataViewType type) => type is VectorDataViewType vector ? vector.Size : 1;

    /// <summary>Adds the <see cref="Column"/> column to <paramref name="scored"/> (the model's output).</summary>
    public IDataView Transform(IDataView scored) => _calculator.Transform(scored);

    /// <summary>A buffer for <see cref="Top"/>: one sum per input column.</summary>
    public double[] NewBuffer() => new double[_names.Length];

    /// <summary>
    /// The row's reasons: sums <paramref name="contributions"/> (a <see cref="Column"/> value) by input column into
    /// <paramref name="sums"/>, and writes to <paramref name="top"/> (at least <see cref="Count"/> long) the indexes of
    /// the columns with the largest absolute sums, largest first (ties by name). Columns that contribute nothing are
    /// not reasons. Returns how many were written.
    /// </summary>
    public int Top(in VBuffer<float> contributions, double[] sums, Span<int> top)
    {
        Array.Clear(sums);
        var values = contributions.GetValues();
        if (contributions.IsDense)
            for (var i = 0; i < values.Length; i++) sums[_owner[i]] += values[i];
        else
        {
            var indices = contributions.GetIndices();
            for (var i = 0; i < values.Length; i++) sums[_owner[indices[i]]] += values[i];
        }
        var n = 0;
        for (var f = 0; f < sums.Length; f++)
        {
            if (sums[f] == 0 || double.IsNaN(sums[f])) continue;
            // Insertion into the sorted top: Count is at most 20.
            var at = n;
            while (at > 0 && Before(f, top[at - 1], sums)) at--;
            if (at >= Count) continue;
            for (var j = Math.Min(n, Count - 1); j > at; j--) top[j] = top[j - 1];
            top[at] = f;
            if (n < Count) n++;
        }
        return n;
    }

    bool Before(int a, int b, double[] sums)
    {
        var (x, y) = (Math.Abs(sums[a]), Math.Abs(sums[b]));
        return x > y || (x == y && _rank[a] < _rank[b]);
    }

    /// <summary>A model's prediction transformer seen as one whose parameters calculate feature contributions; everything else is the transformer's own.</summary>
    sealed class Explainable(ISingleFeaturePredictionTransformer<object> inner, ICalculateFeatureContribution parameters) : ISingleFeaturePredictionTransformer<ICalculateFeatureContribution>
    {
        public string FeatureColumnName => inner.FeatureColumnName;
        public DataViewType FeatureColumnType => inner.FeatureColumnType;
        public ICalculateFeatureContribution Model => parameters;
        public bool IsRowToRowMapper => inner.IsRowToRowMapper;
        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inner.GetOutputSchema(inputSchema);
        public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => inner.GetRowToRowMapper(inputSchema);
        public IDataView Transform(IDataView input) => inner.Transform(input);
        void ICanSaveModel.Save(ModelSaveContext ctx) => inner.Save(ctx);
    }
}
