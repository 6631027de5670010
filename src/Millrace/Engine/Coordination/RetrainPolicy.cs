namespace Millrace.Engine;

/// <summary>What a run measured that may ask for a training: the drift step's worst feature and the realized metric.</summary>
/// <param name="Psi">The largest PSI of the run, or null when no drift was measured.</param>
/// <param name="WorstFeature">The feature with that PSI.</param>
/// <param name="DriftRows">How many rows the drift was measured on.</param>
/// <param name="Metric">The newest realized value of the watched metric for the champion, or null.</param>
/// <param name="HoldoutMetric">The holdout value the champion was promoted on, or null.</param>
/// <param name="ChampionVersion">The champion's version when the run ended.</param>
public sealed record RetrainSignals(
    double? Psi, string? WorstFeature, long DriftRows, double? Metric, double? HoldoutMetric, int? ChampionVersion);

/// <summary>The last triggered training of the pipeline and what asked for it.</summary>
/// <param name="EndedAt">When the triggered training run was asked for.</param>
/// <param name="RunId">That run's id.</param>
/// <param name="Psi">The PSI that asked for it (null when the metric did).</param>
/// <param name="WorstFeature">The worst feature then.</param>
/// <param name="ChampionVersion">The champion when it was asked for.</param>
public sealed record RetrainHistory(DateTimeOffset EndedAt, string RunId, double? Psi, string? WorstFeature, int? ChampionVersion);

/// <summary>The thresholds of <c>retrain_when</c>.</summary>
/// <param name="Drift">PSI threshold, or null.</param>
/// <param name="MetricBelow">Ask when the realized metric falls below this, or null.</param>
/// <param name="MetricDrop">Ask when the realized metric falls this far below the holdout metric, or null.</param>
/// <param name="HigherIsBetter">Whether the metric grows with quality (auc) or shrinks (rmse, log_loss).</param>
/// <param name="Cooldown">No second triggered training within it.</param>
/// <param name="MinRows">Drift on fewer rows does not count.</param>
/// <param name="PsiMargin">How much the PSI must grow over the last trigger's to ask again for the same champion and feature.</param>
public sealed record RetrainThresholds(
    double? Drift, double? MetricBelow, double? MetricDrop, bool HigherIsBetter, TimeSpan Cooldown, long MinRows,
    double PsiMargin = 0.1);

/// <summary>Whether a training is asked for, and why (what the run record and log say).</summary>
public sealed record RetrainDecision(bool Asked, string Reason)
{
    /// <summary>Which trigger asked (<c>metric</c> or <c>drift</c>); null when none did.</summary>
    public string? Trigger { get; init; }
}

/// <summary>
/// The one place that decides whether a run asks for a training: a pure function of the thresholds, the run's
/// signals, the last triggered training and now. Order: a trigger must fire (drift on enough rows, or the metric),
/// the cooldown must have passed, and a drift trigger that did not clear is not repeated for the same champion and
/// worst feature unless its PSI grew by more than the margin.
/// </summary>
public static class RetrainPolicy
{
    public static RetrainDecision Decide(RetrainThresholds when, RetrainSignals signals, RetrainHistory? last, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(when);
        ArgumentNullException.ThrowIfNull(signals);
        var metric = MetricReason(when, signals);
        var drift = DriftReason(when, signals, out var driftSkipped);
        if (metric is null && drift is null)
            return new RetrainDecision(false, driftSkipped ?? "no trigger reached its threshold");
        if (last is not null && now < last.EndedAt + when.Cooldown)
            return new RetrainDecision(false,
                $"cooldown until {(last.EndedAt + when.Cooldown):yyyy-MM-ddTHH:mm:ssZ} (last triggered training run {last.RunId})");
        if (metric is null && last?.Psi is { } lastPsi && last.ChampionVersion == signals.ChampionVersion
            && string.Equals(last.WorstFeature, signals.WorstFeature, StringComparison.Ordinal)
            && signals.Psi <= lastPsi + when.PsiMargin)
            return new RetrainDecision(false,
                $"drift on {signals.WorstFeature} did not clear after run {last.RunId} and nothing changed (same champion v{signals.ChampionVersion}, PSI {signals.Psi:0.###} not above {lastPsi:0.###} + {when.PsiMargin:0.###})");
        return new RetrainDecision(true, metric ?? drift!) { Trigger = metric is null ? "drift" : "metric" };
    }

    static string? MetricReason(RetrainThresholds when, RetrainSignals s)
    {
        if (s.Metric is not { } value)
            return null;
        var sign = when.HigherIsBetter ? 1 : -1;
        if (when.MetricBelow is { } below && sign * value < sign * below)
            return $"metric {value:0.####} {(when.HigherIsBetter ? "below" : "above")} {below:0.####}";
        if (when.MetricDrop is { } drop && s.HoldoutMetric is { } holdout && sign * (holdout - value) > drop)
            return $"metric {value:0.####} dropped more than {drop:0.####} from the holdout {holdout:0.####}";
        return null;
    }

    static string? DriftReason(RetrainThresholds when, RetrainSignals s, out string? skipped)
    {
        skipped = null;
        if (when.Drift is not { } threshold || s.Psi is not { } psi || psi < threshold)
            return null;
        if (s.DriftRows < when.MinRows)
        {
            skipped = $"drift PSI {psi:0.###} on {s.WorstFeature} measured on {s.DriftRows} rows, fewer than min_rows {when.MinRows}";
            return null;
        }
        return $"drift PSI {psi:0.###} on {s.WorstFeature} reached {threshold:0.###}";
    }
}
