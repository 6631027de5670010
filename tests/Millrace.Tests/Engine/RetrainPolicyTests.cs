using Millrace.Engine;

namespace Millrace.Tests.Engine;

public sealed class RetrainPolicyTests
{
    static readonly DateTimeOffset Day0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    static readonly RetrainThresholds Drift = new(0.3, null, null, true, TimeSpan.FromDays(3), 500);

    static RetrainSignals Shift(double psi = 5.4, long rows = 1000, int champion = 1) =>
        new(psi, "monthly_fee", rows, null, null, champion);

    [Fact]
    public void A_drift_that_does_not_clear_asks_for_exactly_one_training_while_nothing_changes()
    {
        RetrainHistory? last = null;
        var asked = 0;
        for (var day = 0; day < 10; day++)
        {
            var now = Day0.AddDays(day);
            var decision = RetrainPolicy.Decide(Drift, Shift(), last, now);
            if (decision.Asked)
            {
                asked++;
                last = new RetrainHistory(now, $"run-{day}", 5.4, "monthly_fee", 1);
            }
        }
        Assert.Equal(1, asked);
        var after = RetrainPolicy.Decide(Drift, Shift(), last, Day0.AddDays(10));
        Assert.Contains("did not clear", after.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Within_the_cooldown_nothing_is_asked_and_the_reason_says_until_when()
    {
        var last = new RetrainHistory(Day0, "run-a", 0.5, "tenure", 1);
        var decision = RetrainPolicy.Decide(Drift, Shift(champion: 2), last, Day0.AddDays(1));
        Assert.False(decision.Asked);
        Assert.Equal("cooldown until 2026-03-04T00:00:00Z (last triggered training run run-a)", decision.Reason);
        Assert.True(RetrainPolicy.Decide(Drift, Shift(champion: 2), last, Day0.AddDays(3)).Asked);
    }

    [Fact]
    public void A_new_champion_or_a_growing_psi_asks_again_after_the_cooldown()
    {
        var last = new RetrainHistory(Day0, "run-a", 5.4, "monthly_fee", 1);
        Assert.True(RetrainPolicy.Decide(Drift, Shift(champion: 2), last, Day0.AddDays(4)).Asked);
        Assert.True(RetrainPolicy.Decide(Drift, Shift(psi: 6.0), last, Day0.AddDays(4)).Asked);
        Assert.False(RetrainPolicy.Decide(Drift, Shift(psi: 5.45), last, Day0.AddDays(4)).Asked);
    }

    [Fact]
    public void Drift_on_fewer_rows_than_min_rows_does_not_count()
    {
        var decision = RetrainPolicy.Decide(Drift, Shift(rows: 499), null, Day0);
        Assert.False(decision.Asked);
        Assert.Contains("fewer than min_rows 500", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_metric_below_and_drop_triggers_fire_only_past_their_thresholds()
    {
        var below = new RetrainThresholds(null, 0.80, null, true, TimeSpan.FromDays(3), 0);
        var drop = new RetrainThresholds(null, null, 0.03, true, TimeSpan.FromDays(3), 0);
        RetrainSignals Auc(double v) => new(null, null, 0, v, 0.85, 1);
        Assert.True(RetrainPolicy.Decide(below, Auc(0.79), null, Day0).Asked);
        Assert.False(RetrainPolicy.Decide(below, Auc(0.81), null, Day0).Asked);
        Assert.True(RetrainPolicy.Decide(drop, Auc(0.81), null, Day0).Asked);
        Assert.False(RetrainPolicy.Decide(drop, Auc(0.83), null, Day0).Asked);
        var rmse = new RetrainThresholds(null, 2.0, null, false, TimeSpan.Zero, 0);
        Assert.True(RetrainPolicy.Decide(rmse, new RetrainSignals(null, null, 0, 2.5, null, 1), null, Day0).Asked);
    }
}
