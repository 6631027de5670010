namespace Millrace.Lake;

public sealed partial class LakeRoot
{
    const int MaxLinks = 40; // as Linux's ELOOP

    /// <summary>The lake root with every symbolic link in it followed (a lake may itself live behind a link).</summary>
    string RealRoot { get; }

    /// <summary>
    /// Where a folded lake path really is, as a lake-relative path: each symbolic link on the way (inside the lake;
    /// the part that does not exist yet is taken as written) is followed, and a path that then lands outside the
    /// real root is refused. Errors name the path as the caller wrote it, never the link's target.
    /// </summary>
    string RealRelative(string folded, string relative)
    {
        var real = folded.Length == 0 ? RealRoot : Walk(RealRoot, folded.Split('/'));
        if (real == RealRoot) return "";
        if (!real.StartsWith(RealRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new LakePathException($"lake path '{relative}' goes through a symbolic link to a place outside the lake root; Millrace reads and writes only inside the lake (replace the link by the file itself)");
        return Path.GetRelativePath(RealRoot, real).Replace('\\', '/');
    }

    /// <summary>An absolute path with every symbolic link followed (what <c>realpath</c> gives, missing parts kept).</summary>
    static string RealPath(string absolute)
    {
        var root = Path.GetPathRoot(absolute) ?? "/";
        return Walk(root, absolute[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>
    /// Walks <paramref name="segments"/> down from the real folder <paramref name="start"/>, replacing each link by
    /// its target (which is walked in turn, so <c>..</c> in a target means the real parent, as the kernel does).
    /// </summary>
    static string Walk(string start, IEnumerable<string> segments)
    {
        var pending = new Stack<string>(segments.Reverse());
        var current = start;
        var links = 0;
        while (pending.Count > 0)
        {
            var segment = pending.Pop();
            if (segment is "" or ".") continue;
            if (segment == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            var next = Path.Join(current, segment);
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++links > MaxLinks) throw new LakePathException($"lake path '{segment}' goes through more than {MaxLinks} symbolic links");
            if (Path.IsPathRooted(target)) current = Path.GetPathRoot(target) ?? current;
            foreach (var part in target.Split(Path.DirectorySeparatorChar).Reverse()) pending.Push(part);
        }
        return current;
    }
}
