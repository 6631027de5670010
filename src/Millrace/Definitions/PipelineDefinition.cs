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
    public required SourceLocation Location { get; init; }
}

/// <summary>A cron schedule (5 fields, or 6 with seconds) in a time zone.</summary>
public sealed record ScheduleDefinition(string Cron, string Timezone, SourceLocation Location);

/// <summary>What to do when a run is requested while another of the same pipeline is active.</summary>
public enum OverlapPolicy { Queue, Skip }

/// <summary>How many runs of one pipeline may be active at once.</summary>
public sealed record ConcurrencyDefinition(int MaxActive, OverlapPolicy OnOverlap);

/// <summary>How often a failed run is retried and how long to wait between attempts.</summary>
public sealed record RetryDefinition(int Attempts, TimeSpan Backoff);
