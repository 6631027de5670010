namespace Millrace.Definitions;

/// <summary>
/// A webhook from <c>notify:</c> in <c>millrace.yaml</c> or a pipeline: where to POST, on which events, and the secret
/// that signs each delivery (HMAC-SHA256). <see cref="Secret"/> is kept as written, usually <c>${env:NAME}</c>, and
/// expanded when a delivery is sent, so the secret itself never lives in the definitions or the store.
/// </summary>
public sealed record NotifyDefinition(string Url, IReadOnlyList<string> Events, string Secret, SourceLocation Location)
{
    /// <summary>True when this webhook wants <paramref name="eventName"/>.</summary>
    public bool Wants(string eventName) => Events.Contains(eventName, StringComparer.Ordinal);
}

/// <summary>The events a webhook can subscribe to.</summary>
public static class NotifyEvents
{
    /// <summary>A run ended succeeded.</summary>
    public const string RunSucceeded = "run.succeeded";
    /// <summary>A run ended failed (including a timeout).</summary>
    public const string RunFailed = "run.failed";
    /// <summary>A run recorded one or more anomalies.</summary>
    public const string Anomaly = "anomaly";

    /// <summary>No run of a pipeline for a date succeeded by its <c>deadline:</c>.</summary>
    public const string DeadlineMissed = "deadline.missed";
    /// <summary>A <c>freshness:</c> feed of a pipeline had no file for a date by its time.</summary>
    public const string FreshnessMissed = "freshness.missed";

    /// <summary>A run registered a new model version.</summary>
    public const string ModelRegistered = "model.registered";
    /// <summary>An alias (champion, challenger, …) was pointed at a version, by a run's gate or over the API.</summary>
    public const string ModelPromoted = "model.promoted";
    /// <summary>The champion was pointed back at the previous champion.</summary>
    public const string ModelRolledBack = "model.rolled_back";
    /// <summary>An <c>evaluate</c> step found the served model's realized metric below its holdout figure by more than its alert allows.</summary>
    public const string ModelPerformanceDropped = "model.performance_dropped";

    /// <summary>The registry's events: a deployment follows the registry by subscribing to them.</summary>
    public static readonly IReadOnlyList<string> Registry = [ModelRegistered, ModelPromoted, ModelRolledBack, ModelPerformanceDropped];

    /// <summary>Every event name a <c>notify:</c> entry may list under <c>on:</c>.</summary>
    public static readonly IReadOnlyList<string> Known = [RunSucceeded, RunFailed, Anomaly, DeadlineMissed, FreshnessMissed, .. Registry];

    /// <summary>What a <c>notify:</c> entry without <c>on:</c> subscribes to: failures, anomalies and missed deadlines and feeds.</summary>
    public static readonly IReadOnlyList<string> Default = [RunFailed, Anomaly, DeadlineMissed, FreshnessMissed];
}
