using System.Text;

namespace Millrace.Lake;

/// <summary>
/// The one place a lake-relative path is folded and judged. Every check works on the folded form: separators are
/// <c>/</c> (a backslash counts as one), <c>.</c> and empty segments are dropped, <c>..</c> removes the segment before
/// it and may not climb above the root. What a folded path may name is then decided on that form only, so
/// <c>exports/../raw/x</c>, <c>./raw//x</c> and <c>exports\..\raw\x</c> are all <c>raw/x</c>.
/// </summary>
public static class LakePath
{
    /// <summary>Longest segment (file or folder name) a written path may have, in UTF-8 bytes (ext4, XFS, APFS, NTFS: 255).</summary>
    public const int MaxSegmentBytes = 255;

    /// <summary>Longest written lake path, in UTF-8 bytes (an S3 key holds at most 1,024).</summary>
    public const int MaxPathBytes = 1024;

    /// <summary>
    /// Folds <paramref name="relative"/> to its canonical lake-relative form (no leading, trailing or doubled
    /// <c>/</c>; <c>""</c> for the root itself), refusing what could name something outside the lake: an absolute
    /// path, a drive, <c>~</c>, a URI, <c>..</c> above the root, a NUL (see <see cref="RefuseEncoded"/> for encoded separators).
    /// </summary>
    public static string Fold(string relative, string? shownAs = null)
    {
        ArgumentNullException.ThrowIfNull(relative);
        var trimmed = relative.Trim();
        var shown = shownAs ?? relative;
        if (trimmed.Length == 0) throw new LakePathException("a lake path is empty");
        if (trimmed.Contains('\0', StringComparison.Ordinal)) throw new LakePathException($"lake path '{Printable(shown)}' contains a NUL character");
        var slashed = trimmed.Replace('\\', '/');
        if (Path.IsPathRooted(slashed) || slashed.StartsWith('~') || slashed.Contains("://", StringComparison.Ordinal) || (slashed.Length > 1 && slashed[1] == ':'))
            throw new LakePathException($"lake path '{shown}' must be relative to the lake root, not absolute");
        var segments = new List<string>();
        foreach (var segment in slashed.Split('/'))
        {
            if (segment is "" or ".") continue;
            if (segment == "..")
            {
                if (segments.Count == 0) throw new LakePathException($"lake path '{shown}' leaves the lake root ('..' is not allowed to go above it)");
                segments.RemoveAt(segments.Count - 1);
                continue;
            }
            segments.Add(segment);
        }
        return string.Join('/', segments);
    }

    /// <summary>
    /// Refuses a URL-encoded separator or dot segment in a path a definition or a parameter names (a layer that
    /// decodes it would see another path). Not applied to the paths Millrace builds itself: a dataset's Hive
    /// partition folders encode <c>/</c> in a value as <c>%2F</c>, which no file system or S3 decodes.
    /// </summary>
    public static void RefuseEncoded(string relative, string? shownAs = null)
    {
        foreach (var segment in relative.Replace('\\', '/').Split('/'))
            if (segment.Contains('%', StringComparison.Ordinal) && Decode(segment) is var decoded
                && (decoded.IndexOfAny(['/', '\\', '\0']) >= 0 || decoded.Trim() is "." or ".."))
                throw new LakePathException($"lake path '{shownAs ?? relative}' has a URL-encoded separator or dot segment ('{segment}'); write the path itself");
    }

    /// <summary>
    /// Refuses a folded path Millrace may not write: one in the landing zone (Millrace never changes what lands) or
    /// in a folder Millrace manages itself (compared ignoring case, as case-insensitive file systems do), the lake root
    /// itself, and names a file system or S3 would change or refuse (a control character, a segment ending in
    /// <c>.</c> or a space, a segment over <see cref="MaxSegmentBytes"/> or a path over <see cref="MaxPathBytes"/>).
    /// </summary>
    public static void CheckWritable(string folded, string relative, string landing)
    {
        if (folded.Length == 0) throw new LakePathException($"lake path '{relative}' is the lake root itself; name a folder or file inside it");
        CheckNotReserved(folded, relative, landing);
        CheckPlaceableName(folded, relative);
    }

    /// <summary>Refuses a folded path in the landing zone or in a folder Millrace manages (the root itself passes).</summary>
    public static void CheckNotReserved(string folded, string relative, string landing)
    {
        var landingFolder = Fold(landing);
        foreach (var folder in LakeRoot.ReservedFolders.Prepend(landingFolder))
            if (folded.Equals(folder, StringComparison.OrdinalIgnoreCase) || folded.StartsWith(folder + "/", StringComparison.OrdinalIgnoreCase))
                throw new LakePathException(folder == landingFolder
                    ? $"lake path '{relative}' is in the landing zone '{folder}/', which Millrace reads and never changes; write elsewhere (e.g. exports/ or reports/)"
                    : $"lake path '{relative}' is in '{folder}/', which Millrace manages itself; write a dataset with 'dataset:' instead, or choose another folder");
    }

    /// <summary>Refuses names a file system or S3 would change or refuse (see <see cref="CheckWritable"/>).</summary>
    public static void CheckPlaceableName(string folded, string relative)
    {
        if (Encoding.UTF8.GetByteCount(folded) > MaxPathBytes)
            throw new LakePathException($"lake path '{Shorten(relative)}' is {Encoding.UTF8.GetByteCount(folded)} bytes long; a written lake path may have at most {MaxPathBytes}");
        foreach (var segment in folded.Split('/'))
        {
            if (segment.Any(char.IsControl))
                throw new LakePathException($"lake path '{Printable(relative)}' contains a control character; file and folder names may not");
            if (segment.EndsWith('.') || segment.EndsWith(' '))
                throw new LakePathException($"lake path '{relative}' has a segment ending in '.' or a space ('{segment}'), which some file systems drop; rename it");
            if (Encoding.UTF8.GetByteCount(segment) > MaxSegmentBytes)
                throw new LakePathException($"lake path '{Shorten(relative)}' has a segment of {Encoding.UTF8.GetByteCount(segment)} bytes; a file or folder name may have at most {MaxSegmentBytes}");
        }
    }

    /// <summary>
    /// The fixed part of a path with parameters: its segments before the first one that holds a <c>$</c>, for
    /// checking at validate time what the definition itself names (<c>../${x}</c>, <c>raw/${x}</c>). Null when the
    /// first segment already holds a parameter.
    /// </summary>
    public static string? FixedPrefix(string path)
    {
        var segments = path.Replace('\\', '/').Split('/');
        var count = segments.TakeWhile(s => !s.Contains('$', StringComparison.Ordinal)).Count();
        return count == 0 ? null : string.Join('/', segments.Take(count)) + "/";
    }

    static string Decode(string segment)
    {
        var decoded = segment;
        for (var i = 0; i < 4; i++)
        {
            var next = Uri.UnescapeDataString(decoded);
            if (next == decoded) break;
            decoded = next;
        }
        return decoded;
    }

    static string Printable(string text) => string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));

    static string Shorten(string text) => text.Length <= 80 ? text : text[..60] + "…" + text[^16..];
}
