using Millrace.Definitions.Options;
using Millrace.Learning;
using Millrace.Storage;

namespace Millrace.Steps;

/// <summary>The trainer of a <c>train</c> step.</summary>
public enum TrainAlgorithm { [Choice("lightgbm")] LightGbm, [Choice("fasttree")] FastTree, Sdca, Logistic }

/// <summary>How a <c>train</c> step holds out rows to evaluate on.</summary>
public enum ValidationMethod { Random, Time, [Choice("kfold")] KFold }

/// <summary>The options of a <c>train</c> step.</summary>
public sealed record TrainOptions
{
    [Option("model", "The name the versions are registered under: `models/<name>/v<N>/model.zip` (+ `metadata.json`) in the lake. Letters, digits and `_`.", Required = true, Type = "name")]
    public string Model { get; init; } = "";

    [Option("task", "What the model predicts.", Required = true)]
    public ModelTask Task { get; init; }

    [Option("label", "The column to predict. Binary: boolean, 0/1 or `'true'/'false'`; multiclass: any value; regression: a number. Rows with a NULL label are left out (the log says how many).", Required = true, Type = "column")]
    public string Label { get; init; } = "";

    [Option("features", "All columns but the label by default; a list means \"only these\"; `{ include: [...], exclude: [...] }`. Text becomes one-hot (or hashed above `categorical_threshold` distinct values), dates and timestamps their parts.")]
    public FeatureSelection Features { get; init; } = new();

    [Option("algorithm", "The trainer. Binary and multiclass: all four (multiclass `fasttree` is one-versus-all); regression: `lightgbm`, `fasttree`, `sdca`.")]
    public TrainAlgorithm Algorithm { get; init; } = TrainAlgorithm.LightGbm;

    [Option("options", "Trainer options: `iterations` (boosting rounds / trees / SDCA iterations), `learning_rate`, `leaves`, `min_child` (minimum rows per leaf), `l2` (SDCA and logistic).", Type = "{ iterations, learning_rate, leaves, min_child, l2 }")]
    public TrainerOptions? Options { get; init; }

    [Option("validation", "The holdout: `random` (a row is in it by the md5 of `column`, or of its row number, and the seed — the same rows every run), `time` (the newest `fraction` by `column`), or `kfold` (metrics averaged over the folds, then the model is trained on every row).",
        Type = "{ method, fraction, column, folds, seed }", Default = "`random`, 0.2")]
    public ValidationOptions? Validation { get; init; }

    [Option("promote", "The promotion gate: the new version must beat the champion on `metric` by `min_improvement` on the same holdout, and stay within each `guard` allowance there, to get `alias`.", Type = "{ metric, min_improvement, guard, alias }")]
    public PromoteOptions? Promote { get; init; }

    [Option("horizon", "How long after a row's time (`horizon_column`) its label becomes known: rows later than run.date - horizon are left out (their outcome cannot be known yet; the log and the step details count them), and a run.date more than twice the horizon past the newest row fails, naming the dates present. Left out: every labelled row is used.",
        Type = "duration", Pattern = OptionAttribute.DurationPattern)]
    public string? Horizon { get; init; }

    [Option("horizon_column", "The date or timestamp column the horizon counts from.", Type = "column", Default = "`validation.column`")]
    public string? HorizonColumn { get; init; }

    [Option("categorical_threshold", "Text columns with at most this many distinct values are one-hot encoded; above it they are hashed (1,024 slots).", Minimum = 1)]
    public int CategoricalThreshold { get; init; } = 50;
}

/// <summary>A <c>train</c> step's <c>options:</c>, each positive; left out, the trainer's default.</summary>
public sealed record TrainerOptions
{
    [Option("iterations", "Boosting rounds, trees or SDCA iterations.", Minimum = 0, ExclusiveMinimum = true)] public double? Iterations { get; init; }
    [Option("learning_rate", "The learning rate (LightGBM, FastTree).", Minimum = 0, ExclusiveMinimum = true)] public double? LearningRate { get; init; }
    [Option("leaves", "Leaves per tree (LightGBM, FastTree).", Minimum = 0, ExclusiveMinimum = true)] public double? Leaves { get; init; }
    [Option("min_child", "Minimum rows per leaf (LightGBM, FastTree).", Minimum = 0, ExclusiveMinimum = true)] public double? MinChild { get; init; }
    [Option("l2", "L2 regularization (SDCA, logistic).", Minimum = 0, ExclusiveMinimum = true)] public double? L2 { get; init; }
}

/// <summary>A <c>train</c> step's <c>validation:</c>.</summary>
public sealed record ValidationOptions
{
    [Option("method", "`random`, `time` or `kfold`.")] public ValidationMethod Method { get; init; } = ValidationMethod.Random;
    [Option("fraction", "The share of rows held out (random, time).", Minimum = 0, ExclusiveMinimum = true, Maximum = 1, ExclusiveMaximum = true)] public double Fraction { get; init; } = 0.2;
    [Option("column", "random: the column whose hash places a row; time: the time to split on (required).", Type = "column")] public string? Column { get; init; }
    [Option("folds", "kfold: the number of folds.", Minimum = 2)] public int Folds { get; init; } = 5;
    [Option("seed", "random, kfold: the seed of the split.")] public int Seed { get; init; } = 42;
}

/// <summary>A <c>train</c> step's <c>promote:</c>.</summary>
public sealed record PromoteOptions
{
    [Option("metric", "The metric compared (binary: auc, …; multiclass: macro_accuracy, …; regression: rmse, …).", Default = "`auc` / `macro_accuracy` / `rmse`")] public string? Metric { get; init; }
    [Option("min_improvement", "How much the new version must beat the champion by.", Minimum = 0)] public double MinImprovement { get; init; }
    [Option("guard", "Secondary metrics the new version may not lose on, each with its signed allowance against the champion on the same holdout: `{ pr_auc: -0.02, log_loss: +0.01 }` (PR-AUC may fall by at most 0.02, log-loss rise by at most 0.01). Metrics of the model's task only.", Type = "{ metric: allowance }")]
    public GuardOptions? Guard { get; init; }
    [Option("alias", "The alias a promoted version gets.")] public string Alias { get; init; } = ModelRegistry.Champion;
}

/// <summary>
/// A <c>train</c> step's <c>promote.guard:</c>, one allowance a metric: how far the new version may fall behind the
/// champion on it (zero or negative for a metric where higher is better, zero or positive for an error).
/// </summary>
public sealed record GuardOptions
{
    [Option("auc", "binary: how much the AUC may fall (-1 to 0).", Minimum = -1, Maximum = 0)] public double? Auc { get; init; }
    [Option("pr_auc", "binary: how much the PR-AUC may fall (-1 to 0).", Minimum = -1, Maximum = 0)] public double? PrAuc { get; init; }
    [Option("log_loss", "binary, multiclass: how much the log-loss may rise (0 or more).", Minimum = 0)] public double? LogLoss { get; init; }
    [Option("f1", "binary: how much F1 may fall (-1 to 0).", Minimum = -1, Maximum = 0)] public double? F1 { get; init; }
    [Option("accuracy", "binary: how much the accuracy may fall (-1 to 0).", Minimum = -1, Maximum = 0)] public double? Accuracy { get; init; }
    [Option("precision", "binary: how much the precision may fall (-1 to 0).", Minimum = -1, Maximum = 0)] public double? Precision { get; init; }
    [Option("recall", "binary: how much the recall may fall (-1 to 0).", Minimum = -1, Maximum = 0)] public double? Recall { get; init; }
    [Option("macro_accuracy", "multiclass: how much the macro accuracy may fall (-1 to 0).", Minimum = -1, Maximum = 0)] public double? MacroAccuracy { get; init; }
    [Option("micro_accuracy", "multiclass: how much the micro accuracy may fall (-1 to 0).", Minimum = -1, Maximum = 0)] public double? MicroAccuracy { get; init; }
    [Option("rmse", "regression: how much the RMSE may rise (0 or more).", Minimum = 0)] public double? Rmse { get; init; }
    [Option("mae", "regression: how much the MAE may rise (0 or more).", Minimum = 0)] public double? Mae { get; init; }
    [Option("r2", "regression: how much R² may fall (0 or less).", Maximum = 0)] public double? R2 { get; init; }

    /// <summary>The allowances given, by metric name.</summary>
    public IReadOnlyDictionary<string, double> Allowances() =>
        OptionsShape.Of<GuardOptions>().Options.Where(o => o.Property.GetValue(this) is double).ToDictionary(o => o.Name, o => (double)o.Property.GetValue(this)!, StringComparer.Ordinal);
}
