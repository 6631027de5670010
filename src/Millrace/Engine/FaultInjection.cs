using System.Diagnostics;

namespace Millrace.Engine;

/// <summary>
/// Crash points for the exactly-once tests. When the environment variable <c>MILLRACE_FAULT</c> names a point
/// (comma-separated: <c>ingest.read_events.before</c>, <c>ingest.store.mid-write</c>, <c>ingest.commit.before</c>,
/// <c>ingest.commit.after</c>, …), the process kills itself with SIGKILL when it reaches it — no cleanup, no
/// finally blocks, as a power cut or an OOM kill would. Unset (always, outside tests), a check costs one lookup.
/// </summary>
public static class FaultInjection
{
    static readonly HashSet<string> Points = (Environment.GetEnvironmentVariable("MILLRACE_FAULT") ?? "")
        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>True when any crash point is armed.</summary>
    public static bool Armed => Points.Count > 0;

    /// <summary>Kills the process at once if <paramref name="point"/> is armed.</summary>
    public static void Hit(string point)
    {
        if (Points.Count == 0 || !Points.Contains(point)) return;
        Console.Error.WriteLine($"MILLRACE_FAULT: killing the process at {point}");
        Console.Error.Flush();
        Process.GetCurrentProcess().Kill();
        Thread.Sleep(Timeout.Infinite);
    }
}
