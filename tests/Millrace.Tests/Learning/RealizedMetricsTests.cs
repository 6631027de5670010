using Millrace.Learning;

namespace Millrace.Tests.Learning;

/// <summary>
/// The realized metrics against a hand computation on eight predictions (positives 0.9, 0.8, 0.6, 0.3; negatives
/// 0.7, 0.4, 0.2, 0.1). scikit-learn gives the same: <c>roc_auc_score</c> 0.8125, <c>average_precision_score</c>
/// 0.854167, <c>log_loss</c> 0.510826 nats (= -ln 0.6, as 0.9·0.8·0.6·0.3 = 0.6⁴), here in bits: 0.510826 / ln 2.
/// </summary>
public sealed class RealizedMetricsTests
{
    internal static readonly double[] Probability = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1];
    internal static readonly bool[] Actual = [true, true, false, true, false, true, false, false];
    internal static readonly bool[] Predicted = [true, true, true, true, false, false, false, false];

    [Fact]
    public void Binary_metrics_equal_the_hand_computation()
    {
        var metrics = RealizedMetrics.Binary(Probability, Predicted, Actual);

        // AUC: 13 of the 16 (positive, negative) pairs are ranked right.
        Assert.Equal(13.0 / 16, metrics["auc"], 9);
        // Average precision: precision 1, 1, 3/4, 4/6 at the four positives, each adding 1/4 of recall.
        Assert.Equal((1 + 1 + 0.75 + 4.0 / 6) / 4, metrics["pr_auc"], 9);
        Assert.Equal(-Math.Log(0.6) / Math.Log(2), metrics["log_loss"], 9);
        // Every probability in its own bin: the mean |truth - p| = (0.1+0.2+0.7+0.4+0.4+0.7+0.2+0.1) / 8.
        Assert.Equal(0.35, metrics["calibration_error"], 9);
        Assert.Equal(0.75, metrics["precision"], 9);
        Assert.Equal(0.75, metrics["recall"], 9);
    }

    [Fact]
    public void Ties_count_half_in_the_auc_and_share_one_threshold_in_the_average_precision()
    {
        var metrics = RealizedMetrics.Binary([0.5, 0.5, 0.5, 0.5], [true, true, true, true], [true, false, true, false]);

        Assert.Equal(0.5, metrics["auc"], 9);
        Assert.Equal(0.5, metrics["pr_auc"], 9);
    }

    [Fact]
    public void With_one_class_only_auc_and_pr_auc_are_left_out_rather_than_made_up()
    {
        var metrics = RealizedMetrics.Binary([0.2, 0.7], [false, true], [false, false]);

        Assert.False(metrics.ContainsKey("auc"));
        Assert.False(metrics.ContainsKey("pr_auc"));
        Assert.False(metrics.ContainsKey("recall"));
        Assert.Equal(0.0, metrics["precision"], 9);
    }

    [Fact]
    public void Regression_and_multiclass_metrics_equal_the_hand_computation()
    {
        var regression = RealizedMetrics.Regression([10, 20, 30], [12, 18, 33]);
        Assert.Equal(Math.Sqrt(17.0 / 3), regression["rmse"], 9);
        Assert.Equal(7.0 / 3, regression["mae"], 9);

        // Class a: 2 of 3 right, b: 1 of 1, c: 0 of 1 -> macro (2/3 + 1 + 0) / 3; micro 3 of 5.
        var multiclass = RealizedMetrics.Multiclass(["a", "a", "b", "b", "a"], ["a", "a", "a", "b", "c"]);
        Assert.Equal((2.0 / 3 + 1 + 0) / 3, multiclass["macro_accuracy"], 9);
        Assert.Equal(0.6, multiclass["micro_accuracy"], 9);
    }

    [Fact]
    public void Nothing_labelled_gives_no_metric()
    {
        Assert.Empty(RealizedMetrics.Binary([], [], []));
        Assert.Empty(RealizedMetrics.Regression([], []));
        Assert.Empty(RealizedMetrics.Multiclass([], []));
    }
}
