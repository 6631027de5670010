namespace Millrace.Storage;

/// <summary>What several server nodes sharing one store need: membership by heartbeat, and taking over a dead node's runs.</summary>
public partial interface IMetadataStore
{
    /// <summary>
    /// True when server nodes on several machines may share this store (PostgreSQL): the server then polls it for
    /// runs other nodes queued and runs a clustered scheduler. False for the embedded SQLite file.
    /// </summary>
    bool Shared { get; }

    /// <summary>Records that <paramref name="node"/> is alive at <paramref name="at"/> (inserting it on its first beat).</summary>
    Task HeartbeatAsync(string node, DateTimeOffset startedAt, DateTimeOffset at, CancellationToken ct);

    /// <summary>Every node that has a heartbeat row, alive or not.</summary>
    Task<IReadOnlyList<ClusterNode>> GetClusterNodesAsync(CancellationToken ct);

    /// <summary>Removes a node's row (it stopped cleanly).</summary>
    Task RemoveClusterNodeAsync(string node, CancellationToken ct);

    /// <summary>
    /// Removes a dead node's row, atomically: only while its heartbeat is still <paramref name="heartbeatAt"/> (it did
    /// not come back) and it owns no Running run (all were taken over). False when it kept the row.
    /// </summary>
    Task<bool> RemoveDeadNodeAsync(string node, DateTimeOffset heartbeatAt, CancellationToken ct);

    /// <summary>
    /// Records a run's end (status, end time, error) only if the run is still Running: false, with nothing written,
    /// when another node took it over meanwhile (the takeover's record stands).
    /// </summary>
    Task<bool> FinishRunAsync(Run run, CancellationToken ct);

    /// <summary>
    /// Takes over a run whose node died, in one write transaction: only if the run is still Running and owned by
    /// <paramref name="deadOwner"/> (null: a run recorded without an owner), marks it (and its running steps and workflows) failed with
    /// <paramref name="reason"/>, logs the reason, and records <paramref name="resume"/> (a queued retry) when given.
    /// False when the run had already ended or another node took it over first: then nothing is written.
    /// </summary>
    Task<bool> TakeOverRunAsync(string runId, string? deadOwner, string reason, DateTimeOffset at, QueuedRun? resume, CancellationToken ct);

    /// <summary>
    /// Asks the node that executes <paramref name="runId"/> to cancel it (the owner polls for requests): false when the
    /// run is not Running.
    /// </summary>
    Task<bool> RequestCancelAsync(string runId, string reason, CancellationToken ct);

    /// <summary>The Running runs owned by <paramref name="owner"/> that another node asked to cancel, with the reason.</summary>
    Task<IReadOnlyList<(string RunId, string Reason)>> GetCancelRequestsAsync(string owner, CancellationToken ct);

    /// <summary>Runs of a project's target that are Queued or Running, on any node.</summary>
    Task<int> CountActiveRunsAsync(string projectId, string target, CancellationToken ct);
}
