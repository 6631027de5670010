using Millrace.Storage;

namespace Millrace.Learning;

/// <summary>
/// The metrics of realized performance, computed from (prediction, truth) pairs in plain C#: no model is needed, so
/// predictions already in the lake can be measured once their labels arrive. Names are the registry's
/// (<see cref="ModelBuilder.MetricNames"/>) plus <c>calibration_error</c>.
/// </summary>
public static class RealizedMetrics
{
    /// <summary>The realized metrics of each task, in the order they are shown.</summary>
    public static IReadOnlyList<string> Names(ModelTask task) => task switch
    {
        ModelTask.Binary => ["auc", "pr_auc", "log_loss", "calibration_error", "precision", "recall"],
        ModelTask.Multiclass => ["macro_accuracy", "micro_accuracy"],
        _ => ["rmse", "mae"],
    };

    /// <summary>Every realized metric of any task.</summary>
    public static IReadOnlyList<string> AllNames { get; } = [.. Names(ModelTask.Binary), .. Names(ModelTask.Multiclass), .. Names(ModelTask.Regression)];

    /// <summary>The metrics an alert may compare with a holdout figure (those the registry records too).</summary>
    public static IReadOnlyList<string> Comparable { get; } = AllNames.Where(n => n != "calibration_error").ToList();

    /// <summary>The task a realized metric belongs to.</summary>
    public static ModelTask TaskOf(string metric) =>
        Names(ModelTask.Binary).Contains(metric) ? ModelTask.Binary : Names(ModelTask.Multiclass).Contains(metric) ? ModelTask.Multiclass : ModelTask.Regression;

    /// <summary>
    /// Binary metrics of <paramref name="probability"/> (of the positive class), <paramref name="predicted"/> (the
    /// decision at the model's threshold) against <paramref name="actual"/>: AUC (ties count half), PR-AUC as average
    /// precision (scikit-learn's <c>average_precision_score</c>), log loss in bits (base 2, as ML.NET's holdout figure;
    /// probabilities clipped to [1e-15, 1 - 1e-15]), expected calibration error over 10 equal-width bins, precision and
    /// recall. A metric that is undefined on the rows (AUC with one class only) is left out.
    /// </summary>
    public static Dictionary<string, double> Binary(IReadOnlyList<double> probability, IReadOnlyList<bool> predicted, IReadOnlyList<bool> actual)
    {
        var n = actual.Count;
        var metrics = new Dictionary<string, double>();
        if (n == 0) return metrics;
        var positives = actual.Count(a => a);
        var negatives = n - positives;
        if (positives > 0 && negatives > 0)
        {
            metrics["auc"] = Auc(probability, actual, positives, negatives);
            metrics["pr_auc"] = AveragePrecision(probability, actual, positives);
        }
        double logLoss = 0;
        for (var i = 0; i < n; i++)
        {
            var p = Math.Clamp(probability[i], 1e-15, 1 - 1e-15);
            logLoss -= actual[i] ? Math.Log2(p) : Math.Log2(1 - p);
        }
        metrics["log_loss"] = logLoss / n;
        metrics["calibration_error"] = CalibrationError(probability, actual, 10);
        var truePositives = Enumerable.Range(0, n).Count(i => predicted[i] && actual[i]);
        var predictedPositives = predicted.Count(p => p);
        if (predictedPositives > 0) metrics["precision"] = (double)truePositives / predictedPositives;
        if (positives > 0) metrics["recall"] = (double)truePositives / positives;
        return metrics;
    }

    /// <summary>The Mann-Whitney form of the AUC: the share of (positive, negative) pairs ranked right, ties counting half.</summary>
    static double Auc(IReadOnlyList<double> probability, IReadOnlyList<bool> actual, int positives, int negatives)
    {
        var order = Enumerable.Range(0, actual.Count).OrderBy(i => probability[i]).ToArray();
        double rankSum = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && probability[order[end + 1]] == probability[order[start]]) end++;
            var rank = (start + end) / 2.0 + 1; // the mean rank of a run of ties
            for (var k = start; k <= end; k++) if (actual[order[k]]) rankSum += rank;
            start = end + 1;
        }
        return (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>Average precision: the sum over distinct thresholds of (recall gained) × (precision at that threshold).</summary>
    static double AveragePrecision(IReadOnlyList<double> probability, IReadOnlyList<bool> actual, int positives)
    {
        var order = Enumerable.Range(0, actual.Count).OrderByDescending(i => probability[i]).ToArray();
        double sum = 0, truePositives = 0, seen = 0, previousRecall = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && probability[order[end + 1]] == probability[order[start]]) end++;
            for (var k = start; k <= end; k++) { seen++; if (actual[order[k]]) truePositives++; }
            var recall = truePositives / positives;
            sum += (recall - previousRecall) * (truePositives / seen);
            previousRecall = recall;
            start = end + 1;
        }
        return sum;
    }

    /// <summary>Expected calibration error: Σ (rows in bin / rows) × |mean truth − mean probability| over equal-width bins (1.0 in the last).</summary>
    static double CalibrationError(IReadOnlyList<double> probability, IReadOnlyList<bool> actual, int bins)
    {
        var count = new int[bins];
        var truth = new double[bins];
        var predicted = new double[bins];
        for (var i = 0; i < actual.Count; i++)
        {
            var p = Math.Clamp(probability[i], 0, 1);
            var bin = Math.Min((int)(p * bins), bins - 1);
            count[bin]++;
            truth[bin] += actual[i] ? 1 : 0;
            predicted[bin] += p;
        }
        double error = 0;
        for (var b = 0; b < bins; b++)
            if (count[b] > 0) error += (double)count[b] / actual.Count * Math.Abs(truth[b] / count[b] - predicted[b] / count[b]);
        return error;
    }

    /// <summary>Regression metrics: root mean squared error and mean absolute error.</summary>
    public static Dictionary<string, double> Regression(IReadOnlyList<double> predicted, IReadOnlyList<double> actual)
    {
        if (actual.Count == 0) return [];
        double squared = 0, absolute = 0;
        for (var i = 0; i < actual.Count; i++)
        {
            var error = predicted[i] - actual[i];
            squared += error * error;
            absolute += Math.Abs(error);
        }
        return new() { ["rmse"] = Math.Sqrt(squared / actual.Count), ["mae"] = absolute / actual.Count };
    }

    /// <summary>Multiclass metrics as ML.NET defines them: macro accuracy (the mean per-class recall over the classes present) and micro accuracy (the share right).</summary>
    public static Dictionary<string, double> Multiclass(IReadOnlyList<string> predicted, IReadOnlyList<string> actual)
    {
        if (actual.Count == 0) return [];
        var right = Enumerable.Range(0, actual.Count).Count(i => predicted[i] == actual[i]);
        var perClass = Enumerable.Range(0, actual.Count).GroupBy(i => actual[i], StringComparer.Ordinal)
            .Select(g => (double)g.Count(i => predicted[i] == actual[i]) / g.Count());
        return new() { ["macro_accuracy"] = perClass.Average(), ["micro_accuracy"] = (double)right / actual.Count };
    }
}
