using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>
/// Why a run did not succeed, as a value: retry policies, backfills and notifications decide on it, never on the
/// wording of <see cref="Run.Error"/>.
/// </summary>
public enum FailureKind
{
    /// <summary>A step failed (bad data, a failed check, a SQL error, a lake file that could not be read or written).</summary>
    StepFailed,
    /// <summary>Another run committed the same dataset, model or file first; nothing was committed, running again succeeds on the new version.</summary>
    Conflict,
    /// <summary>The run took longer than its pipeline's <c>timeout</c>.</summary>
    Timeout,
    /// <summary>Cancelled on request (Ctrl-C, the API, the UI).</summary>
    Cancelled,
    /// <summary>Stopped by its process shutting down (the server's drain timeout) or found dead by a later process.</summary>
    Interrupted,
    /// <summary>Another node took the run over while it ran here (this node's heartbeat lapsed): the takeover's record stands.</summary>
    TakenOver,
    /// <summary>The metadata store could not be read or written (locked, a full disk, a lost connection).</summary>
    StoreFailure,
    /// <summary>The definitions changed since the run was requested and its target or parameters no longer hold.</summary>
    InvalidRequest,
    /// <summary>Not started: the pipeline had <c>concurrency.max_active</c> runs active (<c>on_overlap: skip</c>, or <c>--no-wait</c>).</summary>
    Skipped,
    /// <summary>An error inside Millrace itself (a bug): the run is recorded failed with the exception's message.</summary>
    Internal,
}

/// <summary>
/// A run as it ended, with the kind of its failure: null when it succeeded, and when the store answered with an
/// earlier run (<see cref="Earlier"/>: a run key used before, a run already retried), so that nothing ran now.
/// </summary>
public sealed record RunResult(Run Run, FailureKind? Failure, bool Earlier = false)
{
    /// <summary>The retry a run-end handler asked for after this run, when the coordinator ran it too (the CLI), or null.</summary>
    public RunResult? Next { get; init; }

    /// <summary>The last run of the chain of retries that started with this one.</summary>
    public RunResult Final => Next?.Final ?? this;
}
