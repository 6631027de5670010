using System.Globalization;
using Millrace.Definitions;
using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>
/// What a target's definitions say about when its runs start and what follows their end: how many may be active at
/// once (<c>concurrency.max_active</c>), what a request beyond that does (<c>on_overlap</c>), how often a failed run
/// is retried (<c>retries</c>) and when drift asks for retraining (<c>retrain_when</c>). The in-process coordinator
/// (the CLI) and the server's queue apply the same policy. A workflow run directly has no limits and no retries.
/// </summary>
public sealed record RunPolicy(int MaxActive, OverlapPolicy OnOverlap, RetryDefinition Retries, RetrainDefinition? RetrainWhen, string? File)
{
    /// <summary>The policy of a run that is not a pipeline's: unlimited, queued, never retried.</summary>
    public static RunPolicy Unlimited { get; } = new(int.MaxValue, OverlapPolicy.Queue, new RetryDefinition(0, TimeSpan.Zero), null, null);

    /// <summary>The policy of <paramref name="target"/> in <paramref name="project"/> (<see cref="Unlimited"/> for a workflow or an unknown name).</summary>
    public static RunPolicy For(ProjectDefinition project, string target) =>
        project.Pipelines.TryGetValue(target, out var pipeline)
            ? new RunPolicy(pipeline.Concurrency.MaxActive, pipeline.Concurrency.OnOverlap, pipeline.Retries, pipeline.RetrainWhen, pipeline.Location.File)
            : Unlimited;

    /// <summary>True when the target has a limit worth counting (a pipeline).</summary>
    public bool Limited => MaxActive != int.MaxValue;

    /// <summary>
    /// True when <paramref name="result"/> (attempt <paramref name="attempt"/>, counting from 1) is retried: a failed
    /// pipeline run with attempts left, unless it was interrupted by its process stopping (the server resumes those
    /// after its next start) or taken over by another node (the takeover resumes it).
    /// </summary>
    public bool ShouldRetry(RunResult result, int attempt) =>
        result.Run.Status == RunStatus.Failed && !result.Earlier && result.Run.TargetKind == "pipeline"
        && result.Failure is not (FailureKind.Interrupted or FailureKind.TakenOver or FailureKind.Skipped)
        && attempt <= Retries.Attempts;

    /// <summary>The line a retried run's log gets.</summary>
    public string RetryNote(string retryId, int nextAttempt) =>
        string.Create(CultureInfo.InvariantCulture, $"retrying as run {retryId} (attempt {nextAttempt} of {Retries.Attempts + 1}) after {Retries.Backoff.TotalSeconds:0.###}s (retries: in {File})");

    /// <summary>The error of a request recorded Skipped because <paramref name="busy"/> runs were active.</summary>
    public string SkipReason(string target, int busy, string why) =>
        string.Create(CultureInfo.InvariantCulture, $"skipped: pipeline '{target}' already has {busy} run(s) queued or running (concurrency: max_active {MaxActive}, {why})");
}
