using System.Diagnostics;
using System.Globalization;
using Millrace.Engine;

namespace Millrace.Tests.Engine;

/// <summary>How a process tells whether the process named in a run's owner is gone (so its run can be recovered).</summary>
public sealed class RunOwnerTests
{
    static (string Host, int Pid, long Ticks) Self()
    {
        var parts = RunOwner.Self.Split('|');
        return (parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_live_process_is_alive_even_when_another_process_reads_its_start_time_a_little_differently()
    {
        var (host, pid, ticks) = Self();
        Assert.False(RunOwner.IsDeadOnThisHost(RunOwner.Self));
        // Start times are derived from the boot time, which each reader estimates with some jitter.
        Assert.False(RunOwner.IsDeadOnThisHost($"{host}|{pid}|{ticks + TimeSpan.TicksPerMillisecond * 300}"));
        Assert.False(RunOwner.IsDeadOnThisHost($"{host}|{pid}|{ticks - TimeSpan.TicksPerMillisecond * 300}"));
    }

    [Fact]
    public void A_reused_pid_an_exited_process_or_a_garbled_owner_on_this_host_is_dead()
    {
        var (host, pid, ticks) = Self();
        Assert.True(RunOwner.IsDeadOnThisHost($"{host}|{pid}|{ticks - TimeSpan.TicksPerHour}"));
        Assert.True(RunOwner.IsDeadOnThisHost($"{host}|{pid}|not-a-time"));
        using var exited = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        exited.WaitForExit();
        Assert.True(RunOwner.IsDeadOnThisHost($"{host}|{exited.Id}|{ticks}"));
    }

    [Fact]
    public void An_owner_on_another_host_or_without_an_owner_is_never_called_dead_here()
    {
        var (_, pid, ticks) = Self();
        Assert.False(RunOwner.IsDeadOnThisHost($"other-host|{pid}|{ticks - TimeSpan.TicksPerHour}"));
        Assert.False(RunOwner.IsDeadOnThisHost(null));
        Assert.False(RunOwner.IsDeadOnThisHost("garbage"));
    }
}
