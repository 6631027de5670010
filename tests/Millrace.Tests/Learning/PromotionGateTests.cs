using Millrace.Learning;

namespace Millrace.Tests.Learning;

/// <summary>
/// The promotion decision with guards: a version better on the gate metric is still kept as challenger when a guarded
/// metric falls (or an error rises) by more than its allowance, and the reason names every guarded metric.
/// </summary>
public sealed class PromotionGateTests
{
    static readonly Dictionary<string, double> Champion = new() { ["auc"] = 0.80, ["pr_auc"] = 0.43, ["log_loss"] = 0.30 };

    [Fact]
    public void A_better_auc_with_pr_auc_down_past_the_guard_is_kept_as_challenger()
    {
        var challenger = new Dictionary<string, double> { ["auc"] = 0.85, ["pr_auc"] = 0.13, ["log_loss"] = 0.30 };

        var (promoted, reason) = PromotionGate.Decide("auc", 0.002, new Dictionary<string, double> { ["pr_auc"] = -0.02 }, challenger, Champion, "champion v1");

        Assert.False(promoted);
        Assert.Equal("auc 0.8500 vs champion v1 0.8000 on the same holdout (improvement 0.0500, needed more than 0.0020); " +
            "guard failed: pr_auc 0.1300 vs 0.4300 (change -0.3000, allowed -0.0200)", reason);
    }

    [Fact]
    public void Within_every_allowance_the_gate_metric_decides_and_the_reason_says_the_guard_held()
    {
        var challenger = new Dictionary<string, double> { ["auc"] = 0.85, ["pr_auc"] = 0.42, ["log_loss"] = 0.305 };
        var guard = new Dictionary<string, double> { ["pr_auc"] = -0.02, ["log_loss"] = 0.01 };

        var (promoted, reason) = PromotionGate.Decide("auc", 0.002, guard, challenger, Champion, "champion v1");

        Assert.True(promoted);
        Assert.EndsWith("; guard held: log_loss 0.3050 vs 0.3000 (change +0.0050, allowed +0.0100), pr_auc 0.4200 vs 0.4300 (change -0.0100, allowed -0.0200)", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_error_metric_rising_past_its_allowance_fails_the_guard_and_exactly_the_allowance_holds()
    {
        var guard = new Dictionary<string, double> { ["log_loss"] = 0.01 };
        var rising = new Dictionary<string, double> { ["auc"] = 0.9, ["pr_auc"] = 0.5, ["log_loss"] = 0.32 };
        var atAllowance = new Dictionary<string, double> { ["auc"] = 0.9, ["pr_auc"] = 0.5, ["log_loss"] = 0.31 };

        Assert.False(PromotionGate.Decide("auc", 0, guard, rising, Champion, "champion v1").Promoted);
        Assert.True(PromotionGate.Decide("auc", 0, guard, atAllowance, Champion, "champion v1").Promoted);
    }

    [Fact]
    public void A_guard_does_not_promote_a_version_that_is_not_better_on_the_gate_metric()
    {
        var same = new Dictionary<string, double>(Champion);

        var (promoted, reason) = PromotionGate.Decide("auc", 0, new Dictionary<string, double> { ["pr_auc"] = -0.02 }, same, Champion, "champion v1");

        Assert.False(promoted);
        Assert.Contains("guard held", reason, StringComparison.Ordinal);
    }
}
