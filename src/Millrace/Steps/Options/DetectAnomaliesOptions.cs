using Millrace.Definitions.Options;

namespace Millrace.Steps;

/// <summary>The detector of a <c>detect_anomalies</c> step.</summary>
public enum AnomalyMethod { [Choice("timeseries")] TimeSeries, Outliers }

/// <summary>The time bucket of <c>method: timeseries</c>.</summary>
public enum TimeBucket { Day, Week, Month, Hour }

/// <summary>How <c>method: timeseries</c> aggregates the value per bucket.</summary>
public enum BucketAggregate { Sum, Count, Avg }

/// <summary>Which earlier buckets <c>method: timeseries</c> compares a bucket with.</summary>
public enum BucketSeason { None, Weekly }

/// <summary>Which flagged buckets <c>method: timeseries</c> records.</summary>
public enum AnomalyReport { Latest, All }

/// <summary>The options of a <c>detect_anomalies</c> step; those of the other method are errors.</summary>
public sealed record DetectAnomaliesOptions
{
    /// <summary>The options that only <c>method: timeseries</c> takes.</summary>
    public static readonly IReadOnlyList<string> TimeSeriesOnly = ["time", "bucket", "value", "aggregate", "group_by", "window", "seasonal", "min_history", "report"];

    /// <summary>The options that only <c>method: outliers</c> takes.</summary>
    public static readonly IReadOnlyList<string> OutliersOnly = ["features", "rank", "oversampling", "seed", "contamination"];

    [Option("method", "Which detector: `timeseries`, a value per time bucket (and group) against the earlier buckets; `outliers`, rows unlike the others over numeric features.", Required = true)]
    public AnomalyMethod Method { get; init; }

    [Option("time", "timeseries (required): a `DATE` or `TIMESTAMP` column that places each row in a bucket. `TIMESTAMP WITH TIME ZONE` is bucketed in UTC.", Type = "column")]
    public string? Time { get; init; }

    [Option("bucket", "timeseries: the bucket size. Weeks start on Monday. `hour` needs a timestamp.")]
    public TimeBucket Bucket { get; init; } = TimeBucket.Day;

    [Option("value", "timeseries (required, unless `aggregate: count`): the column measured per bucket.", Type = "column")]
    public string? Value { get; init; }

    [Option("aggregate", "timeseries: how `value` is aggregated per bucket. `count` without `value` counts rows.")]
    public BucketAggregate Aggregate { get; init; } = BucketAggregate.Sum;

    [Option("group_by", "timeseries: one series per distinct combination of these columns (e.g. region).", Type = "column or list")]
    public IReadOnlyList<string> GroupBy { get; init; } = [];

    [Option("window", "timeseries: how many earlier buckets of the series a bucket is compared with.", Minimum = 1)]
    public int Window { get; init; } = 28;

    [Option("seasonal", "timeseries: `weekly` compares a bucket only with earlier buckets of the same weekday (and hour, for `hour` buckets). Needs `day` or `hour` buckets.")]
    public BucketSeason Seasonal { get; init; } = BucketSeason.None;

    [Option("threshold", "timeseries: a bucket is flagged when its robust z-score is beyond ±threshold (more than 0). outliers: a fixed score above which a row is flagged, instead of `contamination`.", Default = "timeseries `3.5`")]
    public double? Threshold { get; init; }

    [Option("min_history", "timeseries: how many earlier buckets a bucket needs to be scored at all (at most `window`).", Minimum = 1, Default = "`7` (or `window` if smaller)")]
    public int? MinHistory { get; init; }

    [Option("report", "timeseries: record anomalies for flagged buckets of the latest bucket in the data only, or for every flagged bucket.")]
    public AnomalyReport Report { get; init; } = AnomalyReport.Latest;

    [Option("features", "outliers: numeric or boolean columns to score rows on.", Default = "every numeric column")]
    public FeatureSelection Features { get; init; } = new();

    [Option("rank", "outliers: principal components of the PCA; capped at the number of features − 1.", Minimum = 1)]
    public int Rank { get; init; } = 3;

    [Option("oversampling", "outliers: oversampling of the randomized SVD.", Minimum = 1)]
    public int Oversampling { get; init; } = 20;

    [Option("seed", "outliers: the same rows and seed give the same scores.")]
    public int Seed { get; init; } = 42;

    [Option("contamination", "outliers: flag this share of the rows, the highest scores, when `threshold` is not set.", Type = "number in (0, 0.5]", Default = "`0.01`")]
    public double? Contamination { get; init; }

    [Option("on_anomaly", "`warn` records the anomalies and goes on; `fail` records them, then fails the step. With `outliers`, `fail` needs a `threshold`.")]
    public WarnOrFail OnAnomaly { get; init; } = WarnOrFail.Warn;
}
