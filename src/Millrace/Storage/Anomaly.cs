namespace Millrace.Storage;

/// <summary>How serious a finding is.</summary>
public enum AnomalySeverity { Info, Warning, Error }

/// <summary>
/// A finding recorded by a step: a rewritten input file, a schema change, a failed expectation, drift, a volume
/// spike, outlier rows. <see cref="Policy"/> says what was done about it (warn, quarantine, fail, reprocess, ignore).
/// </summary>
public sealed record Anomaly
{
    public required string Id { get; init; }
    public required string RunId { get; init; }
    public string? Workflow { get; init; }
    public string? StepId { get; init; }
    /// <summary>What kind of finding: rewritten_file, schema_change, expectation, drift, volume, outliers, …</summary>
    public required string Kind { get; init; }
    public required AnomalySeverity Severity { get; init; }
    public required string Policy { get; init; }
    public required string Message { get; init; }
    public string? DetailsJson { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A file an incremental read committed: its identity is its path and, on an S3 lake, its ETag; else its size and modification time.</summary>
public sealed record WatermarkFile(string Workflow, string StepId, string Path, long Size, DateTimeOffset Modified, string RunId, string? ETag = null);
