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
    static readonly Lazy<string> Current = new(() =>
    {
        using var process = Process.GetCurrentProcess();
        return $"{Environment.MachineName}|{Environment.ProcessId}|{process.StartTime.ToUniversalTime().Ticks}";
    });

    /// <summary>This process's owner string.</summary>
    public static string Self => Current.Value;

    /// <summary>True when <paramref name="owner"/> names a process on this host that no longer runs.</summary>
    public static bool IsDeadOnThisHost(string? owner)
    {
        if (owner is null) return false;
        var parts = owner.Split('|');
        if (parts.Length != 3 || parts[0] != Environment.MachineName) return false;
        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) return false;
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited || process.StartTime.ToUniversalTime().Ticks.ToString(CultureInfo.InvariantCulture) != parts[2];
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
