using System.Diagnostics;
using System.Globalization;

namespace Millrace.Engine;

/// <summary>
/// Who runs a run: the owner string <c>host|pid|start-ticks</c> a node records with the runs it executes, so a later
/// process can tell that a run still marked running lost its process (killed, crashed) and mark it interrupted. The
/// start time guards against a reused pid. A host (the CLI, the server) creates one and passes it down (the CLI names it
/// after <c>MILLRACE_NODE_NAME</c> when set); tests that host several servers in one process give each its own host
/// name, so each is a node of its own.
/// </summary>
public sealed class NodeIdentity
{
    static readonly Lazy<NodeIdentity> ThisProcess = new(() => Named(Environment.MachineName));

    NodeIdentity(string hostName, int processId, long startTicks)
    {
        HostName = hostName.Replace('|', '-');
        ProcessId = processId;
        Owner = $"{HostName}|{processId}|{startTicks}";
    }

    /// <summary>This process under the machine's name: the default of hosts that were not given a node name.</summary>
    public static NodeIdentity Process => ThisProcess.Value;

    /// <summary>
    /// This process under the host name <paramref name="hostName"/> (a '|' in it becomes '-'): a name per machine or
    /// container, for clusters whose machine names are not unique or not stable.
    /// </summary>
    public static NodeIdentity Named(string hostName)
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return new NodeIdentity(hostName, Environment.ProcessId, process.StartTime.ToUniversalTime().Ticks);
    }

    /// <summary>The host part of the owner.</summary>
    public string HostName { get; }

    /// <summary>The process the node runs in.</summary>
    public int ProcessId { get; }

    /// <summary>The owner string recorded with a run and used as the node's id in a cluster.</summary>
    public string Owner { get; }

    /// <summary>True when <paramref name="owner"/> names a process on this node's host that no longer runs.</summary>
    public bool IsDeadOnThisHost(string? owner)
    {
        if (owner is null) return false;
        var parts = owner.Split('|');
        if (parts.Length != 3 || parts[0] != HostName) return false;
        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) return false;
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
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

    /// <inheritdoc/>
    public override string ToString() => Owner;

}
