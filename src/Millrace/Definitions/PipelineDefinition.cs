namespace Millrace.Definitions;

/// <summary>A pipeline: workflows run in order with parameters and an optional schedule, from <c>pipelines/&lt;name&gt;.yaml</c>.</summary>
public sealed class PipelineDefinition
{
    public required string Name { get; init; }
    public string? Description { get; init; }
    public required IReadOnlyList<string> Workflows { get; init; }
    public required IReadOnlyList<SourceLocation> WorkflowLocations { get; init; }
    public required IReadOnlyDictionary<string, ParameterDefinition> Parameters { get; init; }
    public ScheduleDefinition? Schedule { get; init; }
    public ConcurrencyDefinition Concurrency { get; init; } = new(1, OverlapPolicy.Queue);
    public RetryDefinition Retries { get; init; } = new(0, TimeSpan.Zero);
    /// <summary>How long a run of this pipeline may take (from its start); past it the run fails. Null: no limit.</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>Drift-triggered retraining: after a run whose drift reached the threshold, a run of another pipeline is requested.</summary>
    public RetrainDefinition? RetrainWhen { get; init; }
    /// <summary>Webhooks for this pipeline's runs, in addition to the project's.</summary>
    public IReadOnlyList<NotifyDefinition> Notify { get; init; } = [];
    /// <summary>The landing trigger (<c>trigger:</c>): start once per date when the date's feeds have landed. Null: none.</summary>
    public TriggerDefinition? Trigger { get; init; }
    /// <summary><c>deadline:</c>: a run for each date must have succeeded by a time of day. Null: none.</summary>
    public DeadlineDefinition? Deadline { get; init; }
    /// <summary><c>freshness:</c>: feeds whose files for each date must be in the lake by a time of day.</summary>
    public IReadOnlyList<FreshnessDefinition> Freshness { get; init; } = [];
    public required SourceLocation Location { get; init; }
}

/// <summary>A cron schedule (5 fields, or 6 with seconds) in a time zone.</summary>
public sealed record ScheduleDefinition(string Cron, string Timezone, SourceLocation Location)
{
    /// <summary>
    /// Fire times missed while the server was down that are run when it starts again: the most recent
    /// <see cref="CatchUp"/> of them (<c>catch_up: N</c>). 0, the default (<c>misfire: skip</c>), runs none.
    /// </summary>
    public int CatchUp { get; init; }
}

/// <summary>What to do when a run is requested while another of the same pipeline is active.</summary>
public enum OverlapPolicy { Queue, Skip }

/// <summary>How many runs of one pipeline may be active at once.</summary>
public sealed record ConcurrencyDefinition(int MaxActive, OverlapPolicy OnOverlap);

/// <summary>How often a failed run is retried and how long to wait between attempts.</summary>
public sealed record RetryDefinition(int Attempts, TimeSpan Backoff);

/// <summary>
/// <c>retrain_when: { drift: 0.3, metric: { name: auc, below: 0.8 }, cooldown: 3d, min_rows: 500, pipeline: training }</c>:
/// what asks for a run of <see cref="Pipeline"/> (the drift PSI, the champion's realized metric) and the guardrails
/// (no second triggered training within <see cref="Cooldown"/>, drift on fewer than <see cref="MinRows"/> rows does
/// not count). <see cref="Engine.RetrainPolicy"/> decides from it.
/// </summary>
public sealed record RetrainDefinition(double? Drift, string Pipeline, SourceLocation Location)
{
    /// <summary>The realized-metric trigger, or null.</summary>
    public RetrainMetricDefinition? Metric { get; init; }

    /// <summary>No second triggered training of <see cref="Pipeline"/> within it (0: none).</summary>
    public TimeSpan Cooldown { get; init; }

    /// <summary>Drift measured on fewer rows than this does not count.</summary>
    public long MinRows { get; init; }
}

/// <summary>
/// <c>retrain_when.metric</c>: ask when the champion's newest realized <see cref="Name"/> is worse than
/// <see cref="Worse"/> (<c>below</c> for metrics where higher is better, <c>above</c> for the others), or worse
/// than its holdout value by more than <see cref="Drop"/>.
/// </summary>
public sealed record RetrainMetricDefinition(string Name, double? Worse, double? Drop, SourceLocation Location);
