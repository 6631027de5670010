using System.Globalization;
using System.Text;
using Millrace.Engine;
using Millrace.Storage.Sql;

namespace Millrace.Server.Hosting;

/// <summary>
/// A SQLite store is single-node: one <c>millrace serve</c> at a time. The server holds an exclusive OS lock on
/// <c>&lt;store&gt;.serve.lock</c> (next to the database file) while it runs, and writes who holds it into
/// <c>&lt;store&gt;.serve.owner</c> (a locked file cannot be read by another process); a second server on the same
/// store is refused with that holder named. The lock goes with the process (a killed server leaves files, not a lock). CLI commands (<c>run</c>, <c>runs</c>, …) do not take it: they may run beside a server.
/// </summary>
sealed class StoreLock : IDisposable
{
    /// <summary>The lock file's name after the database file's.</summary>
    public const string Suffix = ".serve.lock";

    /// <summary>The name of the file that says who holds the lock, after the database file's.</summary>
    public const string OwnerSuffix = ".serve.owner";

    readonly List<FileStream> _held = [];

    /// <summary>Takes the lock of every SQLite store of <paramref name="hosts"/>; throws <see cref="ServerStartException"/> when one is held.</summary>
    public static StoreLock Take(IEnumerable<ProjectHost> hosts, string urls, NodeIdentity node, TimeProvider clock)
    {
        var locks = new StoreLock();
        try
        {
            foreach (var host in hosts)
                if (host.Store.Database is SqliteDatabase sqlite) locks.Add(host.Id, Path.GetFullPath(sqlite.FilePath), urls, node, clock);
        }
        catch
        {
            locks.Dispose();
            throw;
        }
        return locks;
    }

    void Add(string projectId, string database, string urls, NodeIdentity node, TimeProvider clock)
    {
        var path = database + Suffix;
        FileStream stream;
        try
        {
            // FileShare.None: on Linux and macOS .NET takes flock(LOCK_EX) on the file, on Windows an exclusive share mode.
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new ServerStartException(
                $"project '{projectId}': another millrace serve already serves its SQLite store {database} ({Holder(database + OwnerSuffix)}). " +
                "A SQLite store is single-node: stop that server first, or use a PostgreSQL store to run several nodes (see docs/operations.md)");
        }
        var holder = string.Create(CultureInfo.InvariantCulture, $"node {node.Owner} pid {node.ProcessId} started {clock.GetUtcNow():yyyy-MM-dd HH:mm:ss}Z listening on {urls}\n");
        _held.Add(stream);
        File.WriteAllText(database + OwnerSuffix, holder, Encoding.UTF8);
    }

    /// <summary>What the holder wrote into the lock file, when it can be read.</summary>
    static string Holder(string path)
    {
        try
        {
            var text = File.ReadLines(path, Encoding.UTF8).FirstOrDefault();
            return string.IsNullOrWhiteSpace(text) ? "held by another process" : $"held by {text.Trim()}";
        }
        catch (IOException)
        {
            return "held by another process";
        }
    }

    public void Dispose()
    {
        foreach (var stream in _held) stream.Dispose();
        _held.Clear();
    }
}
