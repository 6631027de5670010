using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>
/// Stops a run from outside and says why: the server cancels a run on request, or interrupts it when it shuts down.
/// The first stop wins; the run records the status and reason given here instead of a plain "cancelled".
/// </summary>
public sealed class RunControl : IDisposable
{
    readonly CancellationTokenSource _source = new();
    readonly Lock _lock = new();
    bool _disposed;

    /// <summary>Cancelled when the run is stopped.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>The status the stopped run records (Cancelled, or Failed for an interruption); null until stopped.</summary>
    public RunStatus? StopStatus { get; private set; }

    /// <summary>The error the stopped run records.</summary>
    public string? StopReason { get; private set; }

    /// <summary>The kind of failure the stopped run records (Cancelled, or Interrupted for a shutdown); null until stopped.</summary>
    public FailureKind? StopKind { get; private set; }

    /// <summary>Stops the run; returns false when it was already stopped (the first reason is kept) or has ended.</summary>
    public bool Stop(RunStatus status, string reason, FailureKind kind)
    {
        lock (_lock)
        {
            if (StopStatus is not null || _disposed) return false;
            (StopStatus, StopReason, StopKind) = (status, reason, kind);
        }
        try { _source.Cancel(); }
        catch (ObjectDisposedException) { /* the run ended meanwhile */ }
        return true;
    }

    public void Dispose()
    {
        lock (_lock) _disposed = true;
        _source.Dispose();
    }
}
