using System.Diagnostics;
using System.Globalization;
using Millrace.Engine;

namespace Millrace.Tests.Engine;

/// <summary>How a process tells whether the process named in a run's owner is gone (so its run can be recovered).</summary>
public sealed class NodeIdentityTests
{
    static (string Host, int Pid, long Ticks) Self()
    {
        var parts = NodeIdentity.Process.Owner.Split('|');
        return (parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_live_process_is_alive_even_when_another_process_reads_its_start_time_a_little_differently()
    {
        var (host, pid, ticks) = Self();
        Assert.False(NodeIdentity.Process.IsDeadOnThisHost(NodeIdentity.Process.Owner));
        // Start times are derived from the boot time, which each reader estimates with some jitter.
        Assert.False(NodeIdentity.Process.IsDeadOnThisHost($"{host}|{pid}|{ticks + TimeSpan.TicksPerMillisecond * 300}"));
        Assert.False(NodeIdentity.Process.IsDeadOnThisHost($"{host}|{pid}|{ticks - TimeSpan.TicksPerMillisecond * 300}"));
    }

    [Fact]
    public void A_reused_pid_an_exited_process_or_a_garbled_owner_on_this_host_is_dead()
    {
        var (host, pid, ticks) = Self();
        Assert.True(NodeIdentity.Process.IsDeadOnThisHost($"{host}|{pid}|{ticks - TimeSpan.TicksPerHour}"));
        Assert.True(NodeIdentity.Process.IsDeadOnThisHost($"{host}|{pid}|not-a-time"));
        using var exited = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        exited.WaitForExit();
        Assert.True(NodeIdentity.Process.IsDeadOnThisHost($"{host}|{exited.Id}|{ticks}"));
    }

    [Fact]
    public void An_owner_on_another_host_or_without_an_owner_is_never_called_dead_here()
    {
        var (_, pid, ticks) = Self();
        Assert.False(NodeIdentity.Process.IsDeadOnThisHost($"other-host|{pid}|{ticks - TimeSpan.TicksPerHour}"));
        Assert.False(NodeIdentity.Process.IsDeadOnThisHost(null));
        Assert.False(NodeIdentity.Process.IsDeadOnThisHost("garbage"));
    }

    [Fact]
    public void Two_identities_in_one_process_are_two_nodes_and_each_knows_its_own_process_alive()
    {
        var (a, b) = (NodeIdentity.Named("node-a"), NodeIdentity.Named("node|b"));

        Assert.NotEqual(a.Owner, b.Owner);
        Assert.Equal(("node-a", "node-b"), (a.HostName, b.HostName));
        Assert.Equal(Environment.ProcessId, a.ProcessId);
        Assert.False(a.IsDeadOnThisHost(a.Owner));
        // A node judges only owners of its own host name: b's owner with a start time that is not this process's is
        // dead to b (a reused pid), and none of a's business.
        var stale = $"{b.HostName}|{b.ProcessId}|0";
        Assert.True(b.IsDeadOnThisHost(stale));
        Assert.False(a.IsDeadOnThisHost(stale));
    }
}
