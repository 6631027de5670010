using System.Diagnostics;

namespace Millrace.Engine;

/// <summary>
/// Crash points for the exactly-once tests. The engine calls <see cref="Hit"/> at named points
/// (<c>run.created</c>, <c>ingest.read_events.before</c>, <c>ingest.store.mid-write</c>, <c>ingest.commit.before</c>,
/// <c>ingest.commit.after</c>, …); an injector armed at a point acts there. <see cref="None"/> (the default
/// everywhere) is armed nowhere and costs one count per check. The CLI host arms its injector with the points
/// <c>MILLRACE_FAULT</c> names (<see cref="Parse"/>), so the kill-campaign tests arm a child process through it;
/// tests in process pass one with their own action.
/// </summary>
public sealed class FaultInjector
{
    /// <summary>The environment variable the CLI host reads the armed points from: comma-separated point names.</summary>
    public const string EnvironmentVariable = "MILLRACE_FAULT";

    readonly HashSet<string> _points;
    readonly Action<string> _act;

    /// <summary>
    /// An injector armed at <paramref name="points"/> that calls <paramref name="act"/> with the point's name when one
    /// is reached (default: <see cref="KillProcess"/>).
    /// </summary>
    public FaultInjector(IEnumerable<string> points, Action<string>? act = null)
    {
        _points = points.ToHashSet(StringComparer.Ordinal);
        _act = act ?? KillProcess;
    }

    /// <summary>Armed nowhere.</summary>
    public static FaultInjector None { get; } = new([]);

    /// <summary>
    /// An injector armed at the comma-separated <paramref name="points"/> (the value of <c>MILLRACE_FAULT</c>), each
    /// calling <paramref name="act"/>; <see cref="None"/> when there are none (always, outside tests).
    /// </summary>
    public static FaultInjector Parse(string? points, Action<string>? act = null) =>
        points?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } armed
            ? new FaultInjector(armed, act)
            : None;

    /// <summary>True when any crash point is armed.</summary>
    public bool Armed => _points.Count > 0;

    /// <summary>Acts at once if <paramref name="point"/> is armed.</summary>
    public void Hit(string point)
    {
        if (_points.Count == 0 || !_points.Contains(point)) return;
        _act(point);
    }

    /// <summary>
    /// Kills the process with SIGKILL: no cleanup, no finally blocks, as a power cut or an OOM kill would.
    /// </summary>
    public static void KillProcess(string point)
    {
        _ = point;
        Process.GetCurrentProcess().Kill();
        // The signal is on its way: nothing after the point may run in the meantime.
        new ManualResetEventSlim(false).Wait();
    }
}
