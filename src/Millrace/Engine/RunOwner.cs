namespace Millrace.Engine;

/// <summary>
/// Forwards to <see cref="NodeIdentity.Process"/> for code that is not yet handed its host's
/// <see cref="NodeIdentity"/>. New code takes the identity from its host (the runner's <c>Node</c>, the server's
/// container) instead: every in-process server answering to this one identity is the same node.
/// </summary>
public static class RunOwner
{
    /// <summary>The host part of this process's owner (<see cref="NodeIdentity.HostName"/>).</summary>
    public static string HostName => NodeIdentity.Process.HostName;

    /// <summary>This process's owner string (<see cref="NodeIdentity.Owner"/>).</summary>
    public static string Self => NodeIdentity.Process.Owner;

    /// <summary>True when <paramref name="owner"/> names a process on this host that no longer runs.</summary>
    public static bool IsDeadOnThisHost(string? owner) => NodeIdentity.Process.IsDeadOnThisHost(owner);
}
