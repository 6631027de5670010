using System.Globalization;
using Millrace.Definitions.Options;
using Millrace.Definitions.Schema;
using Millrace.Learning;
using YamlDotNet.RepresentationModel;

namespace Millrace.Definitions;

/// <summary>Reads a pipeline's <c>retrain_when:</c> (see docs/anomalies.md#retraining-on-drift).</summary>
public static partial class ProjectLoader
{
    static readonly IReadOnlyList<string> RetrainFields = OptionsShape.Of<RetrainOptions>().Names;
    static readonly IReadOnlyList<string> RetrainMetricFields = OptionsShape.Of<RetrainMetricOptions>().Names;

    /// <summary>The longest <c>retrain_when.cooldown</c>.</summary>
    static readonly DurationBounds CooldownBounds = new(TimeSpan.FromDays(366), AllowZero: true);

    /// <summary>The realized metrics whose values lie from 0 to 1 (the others, log_loss, rmse and mae, from 0 up).</summary>
    static readonly HashSet<string> UnitMetrics = new(["auc", "pr_auc", "precision", "recall", "macro_accuracy", "micro_accuracy"], StringComparer.Ordinal);

    static RetrainDefinition? ReadRetrainWhen(YamlNodeReader reader, YamlMappingNode root)
    {
        if (reader.Mapping(root, "retrain_when") is not { } map) return null;
        reader.RejectUnknownKeys(map, RetrainFields, "'retrain_when'");
        var errorsBefore = reader.Errors.Count;
        var drift = reader.Double(map, "drift");
        if (drift <= 0) reader.Error(YamlNodeReader.Find(map, "drift")!, "retrain_when.drift must be positive");
        var metric = ReadRetrainMetric(reader, map);
        if (YamlNodeReader.Find(map, "drift") is null && YamlNodeReader.Find(map, "metric") is null)
            reader.Error(map, "retrain_when needs 'drift' (the PSI at which a retraining run is requested, e.g. 0.3) or 'metric' (e.g. { name: auc, below: 0.8 })");
        var cooldownText = reader.String(map, "cooldown");
        var cooldown = TimeSpan.Zero;
        if (cooldownText is not null && cooldownText.TrimStart().StartsWith('-'))
            reader.Error(YamlNodeReader.Find(map, "cooldown")!, $"retrain_when.cooldown must not be negative, got '{cooldownText}'");
        else cooldown = reader.Duration(map, "cooldown", CooldownBounds) ?? TimeSpan.Zero;
        var minRows = reader.Int(map, "min_rows", min: 0) ?? 0;
        ReadRetrainReference(reader, map);
        var pipeline = reader.String(map, "pipeline") ?? "training";
        if (reader.Errors.Count > errorsBefore) return null;
        return new RetrainDefinition(drift, pipeline, reader.At(map)) { Metric = metric, Cooldown = cooldown, MinRows = minRows };
    }

    /// <summary><c>metric: { name, below | above, drop }</c>, with thresholds inside the metric's range and on its side.</summary>
    static RetrainMetricDefinition? ReadRetrainMetric(YamlNodeReader reader, YamlMappingNode retrain)
    {
        if (reader.Mapping(retrain, "metric") is not { } map) return null;
        reader.RejectUnknownKeys(map, RetrainMetricFields, "'retrain_when.metric'");
        var name = reader.String(map, "name");
        if (name is null)
        {
            reader.Error(map, $"retrain_when.metric needs 'name': one of {string.Join(", ", RealizedMetrics.Comparable)}");
            return null;
        }
        if (!RealizedMetrics.Comparable.Contains(name, StringComparer.Ordinal))
        {
            reader.Error(YamlNodeReader.Find(map, "name")!, $"unknown metric '{name}' in retrain_when.metric (known: {string.Join(", ", RealizedMetrics.Comparable)})");
            return null;
        }
        var higher = ModelBuilder.HigherIsBetter(name);
        var (below, above, drop) = (reader.Double(map, "below"), reader.Double(map, "above"), reader.Double(map, "drop"));
        var wrongSide = higher ? "above" : "below";
        if ((higher ? above : below) is not null)
            reader.Error(YamlNodeReader.Find(map, wrongSide)!, higher
                ? $"{name} is better when higher: write 'below: N' (ask when it falls below N), not 'above'"
                : $"{name} is better when lower: write 'above: N' (ask when it rises above N), not 'below'");
        var worse = higher ? below : above;
        var worseKey = higher ? "below" : "above";
        var unit = UnitMetrics.Contains(name);
        if (worse is { } w && (w <= 0 || (unit && w > 1)))
            reader.Error(YamlNodeReader.Find(map, worseKey)!, string.Create(CultureInfo.InvariantCulture,
                $"retrain_when.metric.{worseKey} for {name} must be {(unit ? "above 0 and at most 1" : "above 0")}, got {w}"));
        if (drop is { } d && (d <= 0 || (unit && d >= 1)))
            reader.Error(YamlNodeReader.Find(map, "drop")!, string.Create(CultureInfo.InvariantCulture,
                $"retrain_when.metric.drop for {name} must be {(unit ? "above 0 and below 1" : "above 0")}, got {d}"));
        if (worse is null && drop is null && (higher ? above : below) is null)
            reader.Error(map, $"retrain_when.metric needs '{worseKey}' (ask when {name} is worse than it) or 'drop' (ask when it is worse than the champion's holdout value by more than it)");
        return new RetrainMetricDefinition(name, worse, drop, reader.At(map));
    }

    /// <summary><c>reference: champion</c> (the default); <c>{ window: 30d }</c> is a located error until it is built.</summary>
    static void ReadRetrainReference(YamlNodeReader reader, YamlMappingNode retrain)
    {
        switch (YamlNodeReader.Find(retrain, "reference"))
        {
            case null:
            case YamlScalarNode { Value: "champion" }:
                return;
            case YamlMappingNode window when YamlNodeReader.Find(window, "window") is not null:
                reader.Error(window, "retrain_when.reference { window: … } is not supported yet: drift is measured against the drift step's reference; "
                    + "write 'reference: champion' with a drift step 'model: name@champion' (re-baselined at each promotion), or a drift step with a second input over a recent window");
                return;
            case var other:
                reader.Error(other, "retrain_when.reference must be 'champion' (or { window: 30d }, not supported yet)");
                return;
        }
    }
}
