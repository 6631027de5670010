namespace Millrace.Engine;

/// <summary>What the host hands a runner: its clock, its node identity and its crash points.</summary>
public sealed partial class Runner
{
    /// <summary>The host's clock: run ids, run.date, timestamps and timeouts (default <see cref="TimeProvider.System"/>).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The node that records and executes the runs (default <see cref="NodeIdentity.Process"/>).</summary>
    public NodeIdentity Node { get; init; } = NodeIdentity.Process;

    /// <summary>The crash points of the exactly-once tests (default armed nowhere; the CLI host arms it from <c>MILLRACE_FAULT</c>).</summary>
    public FaultInjector Faults { get; init; } = FaultInjector.None;
}
