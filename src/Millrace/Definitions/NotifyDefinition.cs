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

    /// <summary>Every event name a <c>notify:</c> entry may list under <c>on:</c>.</summary>
    public static readonly IReadOnlyList<string> Known = [RunSucceeded, RunFailed, Anomaly, DeadlineMissed, FreshnessMissed];

    /// <summary>What a <c>notify:</c> entry without <c>on:</c> subscribes to: failures, anomalies and missed deadlines and feeds.</summary>
    public static readonly IReadOnlyList<string> Default = [RunFailed, Anomaly, DeadlineMissed, FreshnessMissed];
}
