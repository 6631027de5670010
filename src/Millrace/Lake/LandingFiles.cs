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

    /// <summary>
    /// Why a <c>.gz</c> file cannot be read whole (not gzip data, or cut short: the length its trailer records is not the
    /// length it decompresses to), or null. Files without the <c>.gz</c> extension are not inspected.
    /// </summary>
    public static string? CompressionProblem(string path)
    {
        if (!path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            using var file = File.OpenRead(path);
            if (file.Length < 18) return $"is not a complete gzip file ({file.Length} bytes)";
            var trailer = new byte[4];
            file.Seek(-4, SeekOrigin.End);
            file.ReadExactly(trailer);
            file.Seek(0, SeekOrigin.Begin);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            var buffer = new byte[81920];
            long length = 0;
            int read;
            while ((read = gzip.Read(buffer)) > 0) length += read;
            var recorded = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
            return (uint)length == recorded ? null
                : $"is a truncated gzip file: it decompresses to {length} bytes but its trailer records {recorded} (a file cut short, still being written, or several gzip streams joined)";
        }
        catch (InvalidDataException e)
        {
            return $"is not valid gzip data ({e.Message})";
        }
    }

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
        if (bytes is [0xFF, 0xFE, ..] or [0xFE, 0xFF, ..]) return "it is UTF-16 text; save it as UTF-8";
        if (Array.IndexOf(bytes, (byte)0) is var nul and >= 0) return $"it holds a NUL byte at offset {nul} (binary data, or UTF-16/UTF-32 text: save it as UTF-8)";
        string text;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes).TrimStart('\uFEFF'); }
        catch (DecoderFallbackException) { return "it is not UTF-8 text (binary data, or another encoding: save it as UTF-8)"; }
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
