using Millrace.Definitions;

namespace Millrace.Lake;

/// <summary>A lake path that would leave the lake root (<c>../</c>, an absolute path, a drive); names the path.</summary>
public sealed class LakePathException(string message) : Exception(message);

/// <summary>
/// The lake as DuckDB sees it, a local folder: every path a definition names is relative to this root and is refused
/// if it would leave it. Millrace reads the landing zone and writes only under datasets/, predictions/, models/,
/// reports/ and _staging/. For an S3 lake the folder is a cache of the bucket, and <see cref="Storage"/> moves files
/// between the two.
/// </summary>
public sealed class LakeRoot
{
    /// <summary>A lake at <paramref name="root"/>; <paramref name="storage"/> makes it the cache of remote storage (local when null).</summary>
    public LakeRoot(string root, Func<string, ILakeStorage>? storage = null)
    {
        Root = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar);
        Directory.CreateDirectory(Root);
        Storage = storage?.Invoke(Root) ?? new LocalLakeStorage(Root);
    }

    /// <summary>The project's lake: its folder, or for <c>lake: s3://…</c> the bucket seen through the local cache.</summary>
    public static LakeRoot Open(ProjectDefinition project) =>
        project.S3Lake is { } s3 ? new LakeRoot(project.LakeRoot, cache => new S3LakeStorage(s3, cache)) : new LakeRoot(project.LakeRoot);

    /// <summary>Absolute path of the lake root (for an S3 lake, of its local cache).</summary>
    public string Root { get; }

    /// <summary>Where the lake's files live: the local folder, or S3.</summary>
    public ILakeStorage Storage { get; }

    /// <summary>
    /// Resolves committed lake files that never change (dataset parts, model versions) to absolute paths, fetching
    /// the ones the cache lacks first when the lake is remote.
    /// </summary>
    public async Task<IReadOnlyList<string>> FetchAsync(IReadOnlyCollection<string> relative, CancellationToken ct)
    {
        var absolute = relative.Select(Resolve).ToList();
        await Storage.FetchImmutableAsync(relative, ct);
        return absolute;
    }

    /// <summary>The folder where runs stage output files until their commit makes them visible.</summary>
    public string StagingRoot => Path.Combine(Root, "_staging");

    /// <summary>
    /// Resolves a lake-relative path (globs allowed) to an absolute path, refusing absolute paths and any path whose
    /// <c>..</c> segments would leave the root.
    /// </summary>
    public string Resolve(string relative)
    {
        var trimmed = CheckRelative(relative);
        var full = Path.GetFullPath(Path.Combine(Root, trimmed));
        if (full != Root && !full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new LakePathException($"lake path '{relative}' leaves the lake root");
        return full;
    }

    /// <summary>
    /// Checks, without a root, that <paramref name="relative"/> is a lake-relative path that stays inside the lake:
    /// not absolute, no URI, no <c>..</c> above the root. Returns it trimmed. <c>millrace validate</c> uses it on
    /// paths without parameters; <see cref="Resolve"/> on every path at run time.
    /// </summary>
    public static string CheckRelative(string relative)
    {
        ArgumentNullException.ThrowIfNull(relative);
        var trimmed = relative.Trim();
        if (trimmed.Length == 0) throw new LakePathException("a lake path is empty");
        if (Path.IsPathRooted(trimmed) || trimmed.StartsWith('~') || trimmed.Contains("://", StringComparison.Ordinal) || (trimmed.Length > 1 && trimmed[1] == ':'))
            throw new LakePathException($"lake path '{relative}' must be relative to the lake root, not absolute");
        var depth = 0;
        foreach (var segment in trimmed.Replace('\\', '/').Split('/'))
        {
            if (segment is "" or ".") continue;
            depth += segment == ".." ? -1 : 1;
            if (depth < 0) throw new LakePathException($"lake path '{relative}' leaves the lake root ('..' is not allowed to go above it)");
        }
        return trimmed;
    }

    /// <summary>Folders only Millrace itself writes, under their own rules: a write step's path may not go there.</summary>
    public static readonly IReadOnlyList<string> ReservedFolders = ["datasets", "models", "_staging", "quarantine"];

    /// <summary>
    /// Refuses a path a write step may not write to: the landing zone (Millrace never changes what lands) and the
    /// folders Millrace manages itself.
    /// </summary>
    public static void CheckWritable(string relative, string landing)
    {
        var normalized = string.Join('/', CheckRelative(relative).Replace('\\', '/').Split('/').Where(s => s is not ("" or ".")));
        foreach (var folder in ReservedFolders.Prepend(landing.Trim('/')))
            if (normalized == folder || normalized.StartsWith(folder + "/", StringComparison.Ordinal))
                throw new LakePathException(folder == landing.Trim('/')
                    ? $"lake path '{relative}' is in the landing zone '{folder}/', which Millrace reads and never changes; write elsewhere (e.g. exports/ or reports/)"
                    : $"lake path '{relative}' is in '{folder}/', which Millrace manages itself; write a dataset with 'dataset:' instead, or choose another folder");
    }

    /// <summary>The lake-relative form of an absolute path under the root, with forward slashes.</summary>
    public string ToRelative(string absolute) => Path.GetRelativePath(Root, absolute).Replace('\\', '/');
}
