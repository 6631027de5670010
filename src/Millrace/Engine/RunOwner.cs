using System.Diagnostics;
using System.Globalization;

namespace Millrace.Engine;

/// <summary>
/// Identifies the process that runs a run (<c>host|pid|start-ticks</c>), so a later process can tell that a run
/// still marked running lost its process (killed, crashed) and mark it interrupted. The start time guards against a
/// reused pid.
/// </summary>
public static class RunOwner
{
    /// <summary>
    /// The host part of the owner: <c>MILLRACE_NODE_NAME</c> when set (a name per machine or container, for clusters
    /// whose machine names are not unique or not stable), else the machine name.
    /// </summary>
    public static string HostName { get; } = Environment.GetEnvironmentVariable("MILLRACE_NODE_NAME") is { Length: > 0 } name
        ? name.Replace('|', '-') : Environment.MachineName;

    static readonly Lazy<string> Current = new(() =>
    {
        using var process = Process.GetCurrentProcess();
        return $"{HostName}|{Environment.ProcessId}|{process.StartTime.ToUniversalTime().Ticks}";
    });

    /// <summary>This process's owner string.</summary>
    public static string Self => Current.Value;

    /// <summary>True when <paramref name="owner"/> names a process on this host that no longer runs.</summary>
    public static bool IsDeadOnThisHost(string? owner)
    {
        if (owner is null) return false;
        var parts = owner.Split('|');
        if (parts.Length != 3 || parts[0] != HostName) return false;
        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) return false;
        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.HasExited) return true;
            // The start time is derived from the boot time, which each process estimates with a little jitter: the
            // same process read from another one can differ by milliseconds. A reused pid differs by far more.
            return !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                || Math.Abs(process.StartTime.ToUniversalTime().Ticks - ticks) > TimeSpan.TicksPerSecond;
        }
        catch (ArgumentException)
        {
            return true; // no process with that id
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }
}
