namespace Millrace.Lake;

/// <summary>A lake operation on remote storage failed (network, permissions, a missing object); names the object.</summary>
public sealed class LakeStorageException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// Where the lake's files live. DuckDB always reads a local folder (<see cref="LakeRoot.Root"/>); for a local lake that
/// folder is the lake and every operation is a plain file operation, for an S3 lake it is a cache of the bucket and
/// these operations are the few places Millrace talks to the bucket: listing the landing zone, fetching committed
/// files into the cache, uploading a run's files before its commit, publishing after it, and deleting.
/// Paths are lake-relative with forward slashes.
/// </summary>
public interface ILakeStorage
{
    /// <summary>The lake as users wrote it, for messages: the folder, or <c>s3://bucket/prefix</c>.</summary>
    string Location { get; }

    /// <summary>True when <see cref="LakeRoot.Root"/> is a cache of remote storage rather than the lake itself.</summary>
    bool IsRemote { get; }

    /// <summary>Every file whose lake-relative path starts with <paramref name="prefix"/> (recursive), sorted by path.</summary>
    Task<IReadOnlyList<LakeFile>> ListAsync(string prefix, CancellationToken ct);

    /// <summary>
    /// One level of a delimiter listing: the entries whose lake-relative path starts with <paramref name="prefix"/>, each
    /// cut after the next <c>/</c> past the prefix (a folder, ending in <c>/</c>) or whole (a file), distinct and sorted,
    /// only those after <paramref name="startAfter"/> when given. On S3 one ListObjectsV2 with Delimiter, Prefix and
    /// StartAfter per thousand entries, so the cost follows the entries returned, not what lies below them.
    /// </summary>
    Task<IReadOnlyList<string>> ListChildrenAsync(string prefix, string? startAfter, CancellationToken ct);

    /// <summary>
    /// Makes listed files (from <see cref="ListAsync"/>, which may change in place, like landing-zone files) present in the
    /// local root as listed: downloads each one the cache lacks or holds at another size or time.
    /// </summary>
    Task FetchAsync(IReadOnlyCollection<LakeFile> files, CancellationToken ct);

    /// <summary>Makes files that never change once written (dataset parts, model versions) present in the local root.</summary>
    Task FetchImmutableAsync(IReadOnlyCollection<string> paths, CancellationToken ct);

    /// <summary>Copies files a run wrote to the local root to the same paths in the lake (before its commit).</summary>
    Task UploadAsync(IReadOnlyCollection<string> paths, CancellationToken ct);

    /// <summary>Moves a committed staged file to its final path, replacing what is there. False when the staged file is already gone.</summary>
    Task<bool> MoveAsync(string from, string to, CancellationToken ct);

    /// <summary>Deletes files from the lake (and their cached copies); missing files are ignored.</summary>
    Task DeleteAsync(IReadOnlyCollection<string> paths, CancellationToken ct);
}

/// <summary>The lake is the local folder itself: fetching and uploading have nothing to do.</summary>
public sealed class LocalLakeStorage(string root) : ILakeStorage
{
    public string Location => root;
    public bool IsRemote => false;

    public Task<IReadOnlyList<LakeFile>> ListAsync(string prefix, CancellationToken ct)
    {
        var folder = prefix.Contains('/', StringComparison.Ordinal) ? prefix[..prefix.LastIndexOf('/')] : "";
        var directory = Path.Combine(root, folder);
        IReadOnlyList<LakeFile> files = !Directory.Exists(directory) ? [] : Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Select(f => new FileInfo(f))
            .Select(f => new LakeFile(Path.GetRelativePath(root, f.FullName).Replace('\\', '/'), f.Length, new DateTimeOffset(f.LastWriteTimeUtc, TimeSpan.Zero)))
            .Where(f => f.Path.StartsWith(prefix, StringComparison.Ordinal))
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToList();
        return Task.FromResult(files);
    }

    public Task<IReadOnlyList<string>> ListChildrenAsync(string prefix, string? startAfter, CancellationToken ct)
    {
        var cut = prefix.LastIndexOf('/') + 1;
        var directory = Path.Combine(root, prefix[..cut]);
        var namePrefix = prefix[cut..];
        IReadOnlyList<string> entries = !Directory.Exists(directory) ? [] : new DirectoryInfo(directory)
            .EnumerateFileSystemInfos(namePrefix + "*", new EnumerationOptions { IgnoreInaccessible = true, MatchCasing = MatchCasing.CaseSensitive })
            .Select(e => prefix[..cut] + e.Name + (e is DirectoryInfo ? "/" : ""))
            .Where(e => e.StartsWith(prefix, StringComparison.Ordinal) && (startAfter is null || string.CompareOrdinal(e, startAfter) > 0))
            .Order(StringComparer.Ordinal)
            .ToList();
        return Task.FromResult(entries);
    }

    public Task FetchAsync(IReadOnlyCollection<LakeFile> files, CancellationToken ct) => Task.CompletedTask;
    public Task FetchImmutableAsync(IReadOnlyCollection<string> paths, CancellationToken ct) => Task.CompletedTask;
    public Task UploadAsync(IReadOnlyCollection<string> paths, CancellationToken ct) => Task.CompletedTask;

    public Task<bool> MoveAsync(string from, string to, CancellationToken ct)
    {
        var source = Path.Combine(root, from);
        if (!File.Exists(source)) return Task.FromResult(false);
        var target = Path.Combine(root, to);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Move(source, target, overwrite: true);
        return Task.FromResult(true);
    }

    public Task DeleteAsync(IReadOnlyCollection<string> paths, CancellationToken ct)
    {
        foreach (var path in paths.Select(p => Path.Combine(root, p)).Where(File.Exists)) File.Delete(path);
        return Task.CompletedTask;
    }
}
