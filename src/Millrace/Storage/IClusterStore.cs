namespace Millrace.Storage;

/// <summary>A server node sharing the store, with the last time it said it was alive.</summary>
public sealed record ClusterNode(string Node, DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt);

/// <summary>What several server nodes sharing one store need: membership by heartbeat, and taking over a dead node's runs.</summary>
public interface IClusterStore
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
    /// Takes over a run whose node died, in one write transaction: only if the run is still Running and owned by
    /// <paramref name="deadOwner"/> (null: a run recorded without an owner), marks it (and its running steps and workflows) failed with
    /// <paramref name="reason"/>, logs the reason, and records <paramref name="resume"/> (a queued retry) when given.
    /// False when the run had already ended or another node took it over first: then nothing is written.
    /// </summary>
    Task<bool> TakeOverRunAsync(string runId, string? deadOwner, string reason, DateTimeOffset at, QueuedRun? resume, CancellationToken ct);
}
