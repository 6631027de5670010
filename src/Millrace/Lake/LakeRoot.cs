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
public sealed partial class LakeRoot
{
    /// <summary>A lake at <paramref name="root"/>; <paramref name="storage"/> makes it the cache of remote storage (local when null).</summary>
    public LakeRoot(string root, Func<string, ILakeStorage>? storage = null)
    {
        Root = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar);
        Directory.CreateDirectory(Root);
        RealRoot = RealPath(Root);
        Storage = storage?.Invoke(Root) ?? new LocalLakeStorage(Root);
    }

    /// <summary>
    /// The project's lake: its folder, or for <c>lake: s3://…</c> the bucket seen through the local cache, reached with
    /// a client from <paramref name="s3Clients"/>, the opening host's. Without it the lake gets a client of its own,
    /// released when the lake is no longer referenced: fine for a lake opened once, while a host that opens lakes
    /// again and again (a server's project, a backfill) passes its cache so that they share clients and connections.
    /// </summary>
    public static LakeRoot Open(ProjectDefinition project, S3ClientCache? s3Clients = null) =>
        project.S3Lake is { } s3 ? new LakeRoot(project.LakeRoot, cache => new S3LakeStorage(s3, cache, s3Clients ?? new S3ClientCache())) : new LakeRoot(project.LakeRoot);

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
    /// Resolves a lake-relative path (globs allowed) to an absolute path under the root, after folding it
    /// (<see cref="LakePath.Fold"/>): refuses absolute paths, <c>..</c> above the root, and a path whose real
    /// location, once symbolic links are followed, is outside the lake.
    /// </summary>
    public string Resolve(string relative)
    {
        var folded = LakePath.Fold(relative);
        var full = folded.Length == 0 ? Root : Path.GetFullPath(Path.Combine(Root, folded));
        if (full != Root && !full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new LakePathException($"lake path '{relative}' leaves the lake root");
        RealRelative(folded, relative);
        return full;
    }

    /// <summary>
    /// Resolves a path Millrace is about to write (an output's final path) and refuses it when it, or where its
    /// symbolic links really lead, is outside the lake, in the landing zone or a folder Millrace manages, or cannot be
    /// placed: a name a file system refuses, a parent that is a file, or a folder already at the path (a file, when
    /// <paramref name="asFolder"/> says the path is a folder to write files under).
    /// </summary>
    public string ResolveWritable(string relative, string landing, bool asFolder = false)
    {
        var folded = LakePath.Fold(relative);
        LakePath.CheckWritable(folded, relative, landing);
        // A link inside the lake (exports/x -> ../raw) must not let a write reach a folder it could not name.
        var real = RealRelative(folded, relative);
        if (real != folded) LakePath.CheckNotReserved(real, relative, landing);
        var full = Path.Combine(Root, folded);
        CheckPlaceableAt(full, relative, asFolder);
        return full;
    }

    /// <summary>
    /// Checks that a committed output can be moved to <paramref name="relative"/> (any lake folder, Millrace's own
    /// included): a name file systems accept, a real location inside the lake, no parent that is a file and no folder
    /// at the path. Run before every commit, so that a commit never holds a file whose publish must fail.
    /// </summary>
    public void CheckPlaceable(string relative)
    {
        var folded = LakePath.Fold(relative);
        if (folded.Length == 0) throw new LakePathException($"lake path '{relative}' is the lake root itself; name a file inside it");
        LakePath.CheckPlaceableName(folded, relative);
        RealRelative(folded, relative);
        CheckPlaceableAt(Path.Combine(Root, folded), relative, asFolder: false);
    }

    static void CheckPlaceableAt(string full, string relative, bool asFolder)
    {
        if (asFolder && File.Exists(full))
            throw new LakePathException($"lake path '{relative}' is an existing file; files cannot be written under it (choose another path)");
        if (!asFolder && Directory.Exists(full))
            throw new LakePathException($"lake path '{relative}' is an existing folder; a file cannot be written there (write under it, or choose another path)");
        for (var parent = Path.GetDirectoryName(full); parent is not null; parent = Path.GetDirectoryName(parent))
        {
            if (Directory.Exists(parent)) break;
            if (File.Exists(parent))
                throw new LakePathException($"lake path '{relative}' cannot be written: its folder '{Path.GetFileName(parent)}' is a file; choose another path or remove that file");
        }
    }

    /// <summary>
    /// Checks, without a root, that <paramref name="relative"/> is a lake-relative path that stays inside the lake
    /// (<see cref="LakePath.Fold"/>). Returns it trimmed. <c>millrace validate</c> uses it on paths without
    /// parameters; <see cref="Resolve"/> on every path at run time.
    /// </summary>
    public static string CheckRelative(string relative)
    {
        LakePath.Fold(relative);
        return relative.Trim();
    }

    /// <summary>Folders only Millrace itself writes, under their own rules: a write step's path may not go there.</summary>
    public static readonly IReadOnlyList<string> ReservedFolders = ["datasets", "models", "_staging", "quarantine"];

    /// <summary>
    /// Refuses a path a write step may not write to, judged on its folded form: the landing zone (Millrace never
    /// changes what lands), the folders Millrace manages itself, and names no file system can hold.
    /// </summary>
    public static void CheckWritable(string relative, string landing) => LakePath.CheckWritable(LakePath.Fold(relative), relative, landing);

    /// <summary>
    /// <paramref name="message"/> with every absolute path under the lake root shown lake-relative (and the root
    /// itself as <c>&lt;lake&gt;</c>): messages reach viewers, who see the lake, not the server's folders.
    /// </summary>
    public string Relativize(string message)
    {
        foreach (var root in new[] { Root, RealRoot }.Distinct(StringComparer.Ordinal))
            message = message.Replace(root + Path.DirectorySeparatorChar, "", StringComparison.Ordinal).Replace(root, "<lake>", StringComparison.Ordinal);
        return message;
    }

    /// <summary>The lake-relative form of an absolute path under the root, with forward slashes.</summary>
    public string ToRelative(string absolute) => Path.GetRelativePath(Root, absolute).Replace('\\', '/');
}
