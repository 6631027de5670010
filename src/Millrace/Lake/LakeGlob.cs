using System.Text;
using System.Text.RegularExpressions;

namespace Millrace.Lake;

/// <summary>
/// A file the lake holds: its lake-relative path, size and last write time, and on an S3 lake its ETag. The ETag, when
/// there is one, identifies a version of the file; otherwise the size and time do.
/// </summary>
public sealed record LakeFile(string Path, long Size, DateTimeOffset Modified, string? ETag = null);

/// <summary>
/// Lists lake files matching a glob: <c>*</c> and <c>?</c> within a path segment, <c>**</c> across segments,
/// <c>[abc]</c> character classes. Listing starts at the longest folder prefix without wildcards, so
/// <c>raw/events/dt=*/*.csv</c> never walks the whole lake. Files and folders whose names start with <c>.</c> or <c>_</c>
/// are skipped (<c>_SUCCESS</c>, <c>_temporary/</c>, <c>_staging/</c>). Results are sorted by path.
/// </summary>
public static class LakeGlob
{
    /// <summary>
    /// Lists the files matching <paramref name="pattern"/> where the lake lives: the local folder, or for an S3 lake
    /// the bucket (ListObjectsV2 under the longest prefix without wildcards; nothing is downloaded).
    /// </summary>
    public static async Task<IReadOnlyList<LakeFile>> MatchAsync(LakeRoot lake, string pattern, CancellationToken ct)
    {
        if (!lake.Storage.IsRemote) return Match(lake, pattern);
        var relative = lake.ToRelative(lake.Resolve(pattern));
        if (relative == ".") relative = "";
        var segments = relative.Split('/');
        var fixedCount = segments.TakeWhile(s => !HasWildcard(s)).Count();
        if (fixedCount == segments.Length)
        {
            var listed = await lake.Storage.ListAsync(relative, ct);
            var exact = listed.Where(f => f.Path == relative).ToList();
            return exact.Count > 0 ? exact : Filter(listed, relative, "**/*");
        }
        var baseFolder = string.Join('/', segments.Take(fixedCount));
        return Filter(await lake.Storage.ListAsync(baseFolder.Length == 0 ? "" : baseFolder + "/", ct), baseFolder, string.Join('/', segments.Skip(fixedCount)));
    }

    /// <summary>Lists the files matching <paramref name="pattern"/> in the local lake folder.</summary>
    public static IReadOnlyList<LakeFile> Match(LakeRoot lake, string pattern)
    {
        var absolute = lake.Resolve(pattern);
        var relative = lake.ToRelative(absolute);
        var segments = relative.Split('/');
        var fixedCount = segments.TakeWhile(s => !HasWildcard(s)).Count();
        if (fixedCount == segments.Length)
        {
            if (File.Exists(absolute)) return [ToLakeFile(lake, new FileInfo(absolute))];
            if (Directory.Exists(absolute)) return List(lake, absolute, "**/*");
            return [];
        }
        var baseDirectory = Path.Combine([lake.Root, .. segments.Take(fixedCount)]);
        if (!Directory.Exists(baseDirectory)) return [];
        return List(lake, baseDirectory, string.Join('/', segments.Skip(fixedCount)));
    }

    static IReadOnlyList<LakeFile> List(LakeRoot lake, string baseDirectory, string remainder)
    {
        var depthLimited = !remainder.Contains("**", StringComparison.Ordinal);
        var depth = remainder.Split('/').Length;
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden, MaxRecursionDepth = depthLimited ? depth : int.MaxValue };
        return Filter(Directory.EnumerateFiles(baseDirectory, "*", options).Select(f => ToLakeFile(lake, new FileInfo(f))), lake.ToRelative(baseDirectory), remainder);
    }

    /// <summary>The files under <paramref name="baseFolder"/> whose path below it matches the glob <paramref name="remainder"/>, sorted.</summary>
    static IReadOnlyList<LakeFile> Filter(IEnumerable<LakeFile> files, string baseFolder, string remainder)
    {
        var regex = new Regex("^" + ToRegex(remainder) + "$", RegexOptions.CultureInvariant);
        var skip = baseFolder is "" or "." ? 0 : baseFolder.Length + 1;
        return files
            .Where(f => skip == 0 || (f.Path.Length > skip && f.Path.StartsWith(baseFolder + "/", StringComparison.Ordinal)))
            .Where(f => regex.IsMatch(f.Path[skip..]) && !IsHiddenOrInternal(f.Path[skip..]))
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToList();
    }

    // Files and folders named ".x" or "_x" are not data: markers (_SUCCESS), job scratch (_temporary) and Millrace's own
    // _staging. Only the part of the path a wildcard matched is checked; a path named in full is read as written.
    static bool IsHiddenOrInternal(string relative) => relative.Split('/').Any(s => s.StartsWith('.') || s.StartsWith('_'));

    static LakeFile ToLakeFile(LakeRoot lake, FileInfo file) =>
        new(lake.ToRelative(file.FullName), file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero));

    static bool HasWildcard(string segment) => segment.IndexOfAny(['*', '?', '[']) >= 0;

    static string ToRegex(string glob)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            switch (c)
            {
                case '*' when i + 1 < glob.Length && glob[i + 1] == '*':
                    i++;
                    if (i + 1 < glob.Length && glob[i + 1] == '/') { i++; builder.Append("(?:.*/)?"); }
                    else builder.Append(".*");
                    break;
                case '*': builder.Append("[^/]*"); break;
                case '?': builder.Append("[^/]"); break;
                case '[':
                    var end = glob.IndexOf(']', i + 1);
                    if (end < 0) { builder.Append(@"\["); break; }
                    var body = glob[(i + 1)..end];
                    builder.Append('[').Append(body.StartsWith('!') ? "^" + Regex.Escape(body[1..]) : Regex.Escape(body)).Append(']');
                    i = end;
                    break;
                default: builder.Append(Regex.Escape(c.ToString())); break;
            }
        }
        return builder.ToString();
    }
}
