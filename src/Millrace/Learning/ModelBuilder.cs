using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Millrace.Engine;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Learning;

/// <summary>
/// Builds, evaluates and explains ML.NET models from a feature plan: the featurization pipeline (missing-value
/// imputation, one-hot or hashed categories, optional normalization), the trainer for the task and algorithm, the
/// task's metrics and feature importance by input column.
/// </summary>
public static class ModelBuilder
{
    /// <summary>The label column in the data views (the source column is cast to the task's label type).</summary>
    public const string LabelColumn = "Label";

    /// <summary>Algorithms per task.</summary>
    public static readonly IReadOnlyDictionary<ModelTask, string[]> Algorithms = new Dictionary<ModelTask, string[]>
    {
        [ModelTask.Binary] = ["lightgbm", "fasttree", "sdca", "logistic"],
        [ModelTask.Multiclass] = ["lightgbm", "fasttree", "sdca", "logistic"],
        [ModelTask.Regression] = ["lightgbm", "fasttree", "sdca"],
    };

    /// <summary>Trainer options a definition may set.</summary>
    public static readonly IReadOnlyList<string> OptionNames = ["iterations", "learning_rate", "leaves", "min_child", "l2"];

    /// <summary>Metrics per task, and whether larger is better.</summary>
    public static bool HigherIsBetter(string metric) => metric is not ("log_loss" or "rmse" or "mae");

    public static IReadOnlyList<string> MetricNames(ModelTask task) => task switch
    {
        ModelTask.Binary => ["auc", "pr_auc", "log_loss", "f1", "accuracy", "precision", "recall"],
        ModelTask.Multiclass => ["macro_accuracy", "micro_accuracy", "log_loss"],
        _ => ["rmse", "mae", "r2"],
    };

    /// <summary>The data view columns for <paramref name="features"/> plus the label (NULL when the data has none, as when scoring).</summary>
    public static IReadOnlyList<DataViewColumn> ViewColumns(IReadOnlyList<FeatureColumn> features, ModelTask task, string label, bool hasLabel)
    {
        var source = hasLabel ? SqlText.Identifier(label) : "NULL";
        var labelColumn = task switch
        {
            ModelTask.Binary => new DataViewColumn(LabelColumn, FeatureKind.Boolean, $"CAST({source} AS BOOLEAN)"),
            ModelTask.Regression => new DataViewColumn(LabelColumn, FeatureKind.Numeric, $"CAST({source} AS FLOAT)"),
            _ => new DataViewColumn(LabelColumn, FeatureKind.Text, $"CAST({source} AS VARCHAR)"),
        };
        return [.. features.SelectMany(FeaturePlan.Columns), labelColumn];
    }

    /// <summary>
    /// The featurization and training pipeline. LightGBM gets one-hot slots as plain numeric features
    /// (UseCategoricalSplit off): its categorical splits cannot be read back for feature importance by ML.NET 5.
    /// </summary>
    public static IEstimator<ITransformer> Pipeline(MLContext ml, IReadOnlyList<FeatureColumn> features, ModelTask task, string algorithm, IReadOnlyDictionary<string, double> options, int seed)
    {
        var columns = features.SelectMany(FeaturePlan.Columns).ToList();
        IEstimator<ITransformer> pipeline = new EstimatorChain<ITransformer>();
        var numeric = columns.Where(c => c.Kind == FeatureKind.Numeric).Select(c => new InputOutputColumnPair(c.Name)).ToArray();
        if (numeric.Length > 0) pipeline = pipeline.Append(ml.Transforms.ReplaceMissingValues(numeric, Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean));
        foreach (var feature in features.Where(f => f.Role == FeaturePlan.Categorical))
            pipeline = feature.Encoding == "hash"
                ? pipeline.Append(ml.Transforms.Categorical.OneHotHashEncoding(feature.Name, numberOfBits: 10))
                : pipeline.Append(ml.Transforms.Categorical.OneHotEncoding(feature.Name));
        pipeline = pipeline.Append(ml.Transforms.Concatenate("Features", columns.Select(c => c.Name).ToArray()));
        if (algorithm is "sdca" or "logistic") pipeline = pipeline.Append(ml.Transforms.NormalizeMinMax("Features"));
        if (task == ModelTask.Multiclass) pipeline = pipeline.Append(ml.Transforms.Conversion.MapValueToKey(LabelColumn));
        pipeline = pipeline.Append(Trainer(ml, task, algorithm, options, seed));
        if (task == ModelTask.Multiclass) pipeline = pipeline.Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        return pipeline;
    }

    static IEstimator<ITransformer> Trainer(MLContext ml, ModelTask task, string algorithm, IReadOnlyDictionary<string, double> options, int seed)
    {
        int? Int(string name) => options.TryGetValue(name, out var v) ? (int)v : null;
        double? Double(string name) => options.TryGetValue(name, out var v) ? v : null;
        var iterations = Int("iterations");
        var learningRate = Double("learning_rate");
        var leaves = Int("leaves");
        var minChild = Int("min_child");
        var l2 = (float?)Double("l2");
        return (task, algorithm) switch
        {
            (ModelTask.Binary, "lightgbm") => ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            {
                NumberOfIterations = iterations ?? 100, LearningRate = learningRate, NumberOfLeaves = leaves, MinimumExampleCountPerLeaf = minChild, Seed = seed, Silent = true, UseCategoricalSplit = false,
            }),
            (ModelTask.Binary, "fasttree") => ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                NumberOfTrees = iterations ?? 100, LearningRate = learningRate ?? 0.2, NumberOfLeaves = leaves ?? 20, MinimumExampleCountPerLeaf = minChild ?? 10, Seed = seed,
            }),
            (ModelTask.Binary, "sdca") => ml.BinaryClassification.Trainers.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options
            {
                MaximumNumberOfIterations = iterations, L2Regularization = l2,
            }),
            (ModelTask.Binary, _) => ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
            {
                MaximumNumberOfIterations = iterations ?? 100, L2Regularization = l2 ?? 1,
            }),
            (ModelTask.Multiclass, "lightgbm") => ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
            {
                NumberOfIterations = iterations ?? 100, LearningRate = learningRate, NumberOfLeaves = leaves, MinimumExampleCountPerLeaf = minChild, Seed = seed, Silent = true, UseCategoricalSplit = false,
            }),
            (ModelTask.Multiclass, "fasttree") => ml.MulticlassClassification.Trainers.OneVersusAll(ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                NumberOfTrees = iterations ?? 100, LearningRate = learningRate ?? 0.2, NumberOfLeaves = leaves ?? 20, MinimumExampleCountPerLeaf = minChild ?? 10, Seed = seed,
            })),
            (ModelTask.Multiclass, "sdca") => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
            {
                MaximumNumberOfIterations = iterations, L2Regularization = l2,
            }),
            (ModelTask.Multiclass, _) => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
            {
                MaximumNumberOfIterations = iterations ?? 100, L2Regularization = l2 ?? 1,
            }),
            (ModelTask.Regression, "lightgbm") => ml.Regression.Trainers.LightGbm(new LightGbmRegressionTrainer.Options
            {
                NumberOfIterations = iterations ?? 100, LearningRate = learningRate, NumberOfLeaves = leaves, MinimumExampleCountPerLeaf = minChild, Seed = seed, Silent = true, UseCategoricalSplit = false,
            }),
            (ModelTask.Regression, "fasttree") => ml.Regression.Trainers.FastTree(new FastTreeRegressionTrainer.Options
            {
                NumberOfTrees = iterations ?? 100, LearningRate = learningRate ?? 0.2, NumberOfLeaves = leaves ?? 20, MinimumExampleCountPerLeaf = minChild ?? 10, Seed = seed,
            }),
            // ML.NET's regression SDCA defaults to BiasLearningRate 1, with which even y = 3x + 2z diverges (R² far below
            // 0, or "non-finite weights", and a different model each run); with 0 it converges in a few passes.
            _ => ml.Regression.Trainers.Sdca(new SdcaRegressionTrainer.Options { MaximumNumberOfIterations = iterations, L2Regularization = l2, BiasLearningRate = 0 }),
        };
    }

    /// <summary>The task's metrics of <paramref name="model"/> on <paramref name="data"/> (which has labels), plus the confusion matrix for classifiers.</summary>
    public static (Dictionary<string, double> Metrics, IReadOnlyList<IReadOnlyList<double>>? Confusion) Evaluate(MLContext ml, ITransformer model, IDataView data, ModelTask task) =>
        EvaluatePredictions(ml, model.Transform(data), task);

    /// <summary>The task's metrics of <paramref name="predictions"/>, a model's output on rows with labels.</summary>
    public static (Dictionary<string, double> Metrics, IReadOnlyList<IReadOnlyList<double>>? Confusion) EvaluatePredictions(MLContext ml, IDataView predictions, ModelTask task)
    {
        try
        {
            switch (task)
            {
                case ModelTask.Binary:
                {
                    var m = ml.BinaryClassification.Evaluate(predictions, LabelColumn);
                    var counts = m.ConfusionMatrix.Counts;
                    return (new Dictionary<string, double>
                    {
                        ["auc"] = m.AreaUnderRocCurve, ["pr_auc"] = m.AreaUnderPrecisionRecallCurve, ["log_loss"] = m.LogLoss, ["f1"] = m.F1Score,
                        ["accuracy"] = m.Accuracy, ["precision"] = m.PositivePrecision, ["recall"] = m.PositiveRecall,
                        ["tp"] = counts[0][0], ["fn"] = counts[0][1], ["fp"] = counts[1][0], ["tn"] = counts[1][1],
                    }, counts);
                }
                case ModelTask.Multiclass:
                {
                    var m = ml.MulticlassClassification.Evaluate(predictions, LabelColumn);
                    return (new Dictionary<string, double> { ["macro_accuracy"] = m.MacroAccuracy, ["micro_accuracy"] = m.MicroAccuracy, ["log_loss"] = m.LogLoss }, m.ConfusionMatrix.Counts);
                }
                default:
                {
                    var m = ml.Regression.Evaluate(predictions, LabelColumn);
                    return (new Dictionary<string, double> { ["rmse"] = m.RootMeanSquaredError, ["mae"] = m.MeanAbsoluteError, ["r2"] = m.RSquared }, null);
                }
            }
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new StepFailedException($"the holdout cannot be evaluated ({e.Message.Split('\n')[0]}); does it hold both classes? Use more data or another validation split", e);
        }
    }

    /// <summary>
    /// Feature importance by input column: cumulative split gain for tree ensembles, |weight| for linear models
    /// (on normalized features), summed over the slots a column became (one-hot categories, date parts).
    /// Empty for models that expose neither (one-versus-all multiclass).
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, double>> Importance(ITransformer model, DataViewSchema inputSchema, IReadOnlyList<FeatureColumn> features)
    {
        var predictor = (model as IEnumerable<ITransformer> ?? [model]).OfType<ISingleFeaturePredictionTransformer<object>>().LastOrDefault();
        if (predictor is null) return [];
        var parameters = predictor.Model;
        if (parameters is CalibratedModelParametersBase calibrated) parameters = calibrated.SubModel;
        float[] weights;
        switch (parameters)
        {
            case TreeEnsembleModelParametersBasedOnRegressionTree trees:
                // Summed from the trees: GetFeatureWeights can index past its buffer for LightGBM models, whose trees
                // may also carry no split gains; then each split counts once (split-count importance).
                var gains = new Dictionary<int, double>();
                foreach (var tree in trees.TrainedTreeEnsemble.Trees)
                    for (var node = 0; node < tree.NumericalSplitFeatureIndexes.Count; node++)
                    {
                        var feature = tree.NumericalSplitFeatureIndexes[node];
                        gains[feature] = gains.GetValueOrDefault(feature) + (node < tree.SplitGains.Count ? tree.SplitGains[node] : 1);
                    }
                weights = new float[gains.Count == 0 ? 0 : gains.Keys.Max() + 1];
                foreach (var (index, gain) in gains) weights[index] = (float)gain;
                break;
            case LinearModelParameters linear:
                weights = linear.Weights.Select(Math.Abs).ToArray();
                break;
            default:
                return [];
        }
        var featureColumn = model.GetOutputSchema(inputSchema)["Features"];
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        if (featureColumn.HasSlotNames()) featureColumn.GetSlotNames(ref names);
        var slotNames = names.DenseValues().Select(n => n.ToString()).ToArray();
        var byColumn = features.ToDictionary(f => f.Name, _ => 0.0, StringComparer.Ordinal);
        var ordered = features.Select(f => f.Name).OrderByDescending(n => n.Length).ToList();
        for (var i = 0; i < weights.Length && i < slotNames.Length; i++)
        {
            var owner = ordered.FirstOrDefault(n => slotNames[i] == n || slotNames[i].StartsWith(n + ".", StringComparison.Ordinal));
            if (owner is not null) byColumn[owner] += weights[i];
        }
        var total = byColumn.Values.Sum();
        return byColumn.Select(p => new KeyValuePair<string, double>(p.Key, total > 0 ? Math.Round(p.Value / total, 6) : 0))
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToList();
    }

    /// <summary>Formats a metric for logs.</summary>
    public static string Format(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);
}
