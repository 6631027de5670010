using System.Diagnostics;

namespace Millrace.Engine;

/// <summary>
/// Crash points for the exactly-once tests. The engine calls <see cref="Hit"/> at named points
/// (<c>run.created</c>, <c>ingest.read_events.before</c>, <c>ingest.store.mid-write</c>, <c>ingest.commit.before</c>,
/// <c>ingest.commit.after</c>, …); an injector armed at a point acts there. <see cref="None"/> (the default
/// everywhere) is armed nowhere and costs one count per check. The CLI and server hosts build theirs with
/// <see cref="FromEnvironment"/>, so the kill-campaign tests arm a child process through <c>MILLRACE_FAULT</c>;
/// tests in process pass one with their own action.
/// </summary>
public sealed class FaultInjector
{
    /// <summary>The environment variable <see cref="FromEnvironment"/> reads: comma-separated point names.</summary>
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
    /// The points <c>MILLRACE_FAULT</c> names, each killing the process; <see cref="None"/> when it is unset (always,
    /// outside tests).
    /// </summary>
    public static FaultInjector FromEnvironment() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } points
            ? new FaultInjector(points.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
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
        Console.Error.WriteLine($"{EnvironmentVariable}: killing the process at {point}");
        Console.Error.Flush();
        Process.GetCurrentProcess().Kill();
        // The signal is on its way: nothing after the point may run in the meantime.
        new ManualResetEventSlim(false).Wait();
    }
}
