using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Millrace.Lake;

/// <summary>
/// Checks on landing files that DuckDB does not make: a gzip file cut short (DuckDB, like .NET, reads what is there and
/// stops without an error), and why a non-empty file gave no rows (DuckDB reads a CSV whose header opens a quote that
/// never closes, or a file of NUL bytes, as a header and nothing else).
/// </summary>
public static class LandingFiles
{
    /// <summary>How much of a file that gave no rows is inspected; a larger file with no rows is never a well-formed empty table.</summary>
    const int InspectedBytes = 1 << 20;

    /// <summary>How much of the start of each CSV or JSON file is checked for binary content before it is read.</summary>
    const int HeadBytes = 1 << 16;

    /// <summary>
    /// Why a landing file cannot be read as <paramref name="format"/> at all, or null: a <c>.gz</c> file that is not
    /// gzip data or is cut short (the length its trailer records is not the length it decompresses to); a CSV or JSON
    /// file whose start holds NUL bytes, UTF-16 or bytes that are not UTF-8 (binary data, another encoding).
    /// </summary>
    public static string? Problem(string path, string format)
    {
        var gzip = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        if (format == "parquet" && !gzip) return null;
        var head = new byte[HeadBytes];
        int headLength;
        bool whole;
        try
        {
            using var file = File.OpenRead(path);
            if (!gzip)
            {
                headLength = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
                whole = headLength == file.Length;
            }
            else
            {
                if (file.Length < 18) return $"is not a complete gzip file ({file.Length} bytes)";
                var trailer = new byte[4];
                file.Seek(-4, SeekOrigin.End);
                file.ReadExactly(trailer);
                file.Seek(0, SeekOrigin.Begin);
                using var stream = new GZipStream(file, CompressionMode.Decompress);
                headLength = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
                var (buffer, length, read) = (new byte[81920], (long)headLength, 0);
                while ((read = stream.Read(buffer)) > 0) length += read;
                var recorded = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
                if ((uint)length != recorded)
                    return $"is a truncated gzip file: it decompresses to {length} bytes but its trailer records {recorded} (a file cut short, still being written, or several gzip streams joined)";
                whole = length == headLength;
            }
        }
        catch (InvalidDataException e)
        {
            return $"is not valid gzip data ({e.Message})";
        }
        return format == "parquet" ? null : TextProblem(head.AsSpan(0, headLength), whole);
    }

    /// <summary>Why bytes are not UTF-8 text, or null; <paramref name="whole"/> says they are the whole file, not its start.</summary>
    static string? TextProblem(ReadOnlySpan<byte> bytes, bool whole)
    {
        if (bytes is [0xFF, 0xFE, ..] or [0xFE, 0xFF, ..]) return "is UTF-16 text; save it as UTF-8";
        if (bytes.IndexOf((byte)0) is var nul and >= 0) return $"holds a NUL byte at offset {nul} (binary data, or UTF-16/UTF-32 text: save it as UTF-8)";
        try { Strict.GetDecoder().GetCharCount(bytes, flush: whole); }
        catch (DecoderFallbackException) { return "is not UTF-8 text (binary data, or another encoding: save it as UTF-8)"; }
        return null;
    }

    static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

    /// <summary>
    /// Why a non-empty file that gave no rows is not a well-formed empty table, or null when it is one: a CSV that holds
    /// only its header line, a JSON file holding <c>[]</c>, any Parquet file (DuckDB has read its footer).
    /// </summary>
    public static string? WhyNoRows(string path, string format, bool header)
    {
        if (format == "parquet") return null;
        byte[] bytes;
        using (var file = File.OpenRead(path))
        using (var stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file)
        {
            bytes = new byte[InspectedBytes + 1];
            var length = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (length > InspectedBytes) return "no row could be read from it";
            Array.Resize(ref bytes, length);
        }
        if (TextProblem(bytes, whole: true) is { } problem) return "it " + problem;
        var text = Strict.GetString(bytes).TrimStart('\uFEFF');
        if (text.Trim().Length == 0) return "it holds only whitespace";
        if (format == "json") return text.Trim() == "[]" ? null : "no record could be read from it";
        if (UnclosedQuoteLine(text) is { } line) return $"line {line}: a quote (\") opens a field that is never closed, so the rest of the file was read as that one field";
        var lines = text.Split('\n').Count(l => l.Trim().Length > 0);
        return header && lines == 1 ? null : "no row could be read from it";
    }

    /// <summary>The line of the double quote that opens a field never closed, or null when quotes balance.</summary>
    static int? UnclosedQuoteLine(string text)
    {
        var (line, open, openedAt) = (1, false, 0);
        foreach (var c in text)
        {
            if (c == '\n') line++;
            else if (c == '"') (open, openedAt) = (!open, open ? openedAt : line);
        }
        return open ? openedAt : null;
    }
}
