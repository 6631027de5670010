namespace Millrace.Learning;

/// <summary>
/// The promotion decision of a <c>train</c> step, from the new version's and the champion's metrics on the same
/// holdout: the new version must beat the champion on the gate metric by more than the minimum improvement, and on
/// every guarded metric it may fall behind by at most the guard's allowance. The reason says which held and which not.
/// </summary>
public static class PromotionGate
{
    /// <summary>Slack for floating-point noise when a metric is compared with its allowance.</summary>
    const double Tolerance = 1e-12;

    /// <summary>
    /// Decides whether the new version (<paramref name="metrics"/>) replaces the champion (<paramref name="championMetrics"/>,
    /// named <paramref name="champion"/> in the reason, e.g. "champion v3").
    /// </summary>
    public static (bool Promoted, string Reason) Decide(string metric, double minImprovement, IReadOnlyDictionary<string, double> guard,
        IReadOnlyDictionary<string, double> metrics, IReadOnlyDictionary<string, double> championMetrics, string champion)
    {
        var value = metrics[metric];
        var old = championMetrics[metric];
        var improvement = ModelBuilder.HigherIsBetter(metric) ? value - old : old - value;
        var comparison = $"{metric} {ModelBuilder.Format(value)} vs {champion} {ModelBuilder.Format(old)} on the same holdout (improvement {ModelBuilder.Format(improvement)}, needed more than {ModelBuilder.Format(minImprovement)})";
        var better = improvement > minImprovement || (minImprovement == 0 && improvement > 0);
        if (guard.Count == 0) return (better, comparison);
        var held = new List<string>();
        var failed = new List<string>();
        foreach (var (name, allowance) in guard.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var change = metrics[name] - championMetrics[name];
            var ok = ModelBuilder.HigherIsBetter(name) ? change >= allowance - Tolerance : change <= allowance + Tolerance;
            var text = $"{name} {ModelBuilder.Format(metrics[name])} vs {ModelBuilder.Format(championMetrics[name])} (change {Signed(change)}, allowed {Signed(allowance)})";
            (ok ? held : failed).Add(text);
        }
        if (failed.Count > 0) return (false, $"{comparison}; guard failed: {string.Join(", ", failed)}");
        return (better, $"{comparison}; guard held: {string.Join(", ", held)}");
    }

    static string Signed(double value) => (value >= 0 ? "+" : "") + ModelBuilder.Format(value);
}
