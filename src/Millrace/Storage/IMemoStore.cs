namespace Millrace.Storage;

/// <summary>
/// The inputs a workflow run saw, as they stood after its commit (<see cref="InputsJson"/>, hashed into
/// <see cref="Fingerprint"/>); <see cref="SameAsRunId"/> is set when the run was up to date: it found the fingerprint
/// of that run and did not run the workflow again.
/// </summary>
public sealed record WorkflowFingerprint(string RunId, string Workflow, string Fingerprint, string InputsJson, string? SameAsRunId, DateTimeOffset CreatedAt);

/// <summary>The workflow fingerprints the memo decides by ("skip what is up to date").</summary>
public interface IMemoStore
{
    /// <summary>Records a workflow run's fingerprint (once it succeeded or was up to date); a second save of the same run and workflow replaces it.</summary>
    Task SaveFingerprintAsync(WorkflowFingerprint fingerprint, CancellationToken ct);

    /// <summary>The latest fingerprint of <paramref name="workflow"/> recorded by a run of <paramref name="projectId"/>, or null.</summary>
    Task<WorkflowFingerprint?> GetLatestFingerprintAsync(string projectId, string workflow, CancellationToken ct);

    /// <summary>The fingerprints recorded by one run, by workflow.</summary>
    Task<IReadOnlyList<WorkflowFingerprint>> GetFingerprintsAsync(string runId, CancellationToken ct);
}
