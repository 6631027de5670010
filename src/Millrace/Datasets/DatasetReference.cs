using System.Globalization;

namespace Millrace.Datasets;

/// <summary>Parses dataset references: <c>name</c> (latest committed version) or <c>name@vN</c>.</summary>
public static class DatasetReference
{
    public static (string Name, int? Version) Parse(string reference)
    {
        var at = reference.IndexOf('@', StringComparison.Ordinal);
        if (at < 0) return (reference, null);
        var suffix = reference[(at + 1)..];
        if (suffix.Length > 1 && suffix[0] == 'v' && int.TryParse(suffix[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version > 0)
            return (reference[..at], version);
        throw new FormatException($"'{reference}' is not a dataset reference: write name or name@vN (e.g. customers@v3)");
    }

    public static bool TryParse(string reference, out string name, out int? version)
    {
        try
        {
            (name, version) = Parse(reference);
            return true;
        }
        catch (FormatException)
        {
            (name, version) = (reference, null);
            return false;
        }
    }
}
