using System.Globalization;

namespace Millrace.Reports;

/// <summary>
/// A KPI of one run of a report: its value, the value of the report's previous run (matched by label) and how to show
/// both. <see cref="Change"/> is value − previous when both are known.
/// </summary>
public sealed record KpiValue(string Label, double? Value, double? Previous, KpiFormat Format, int? Decimals = null, string Symbol = "$", bool HigherIsBetter = true)
{
    public double? Change => Value is { } v && Previous is { } p ? v - p : null;

    /// <summary>The value as shown: <c>1,234</c>, <c>12.3%</c>, <c>$1,234.50</c>; NULL as an em dash.</summary>
    public string FormattedValue => Value is { } v ? FormatValue(v) : "—";

    /// <summary>The previous value as shown, or null when there is none.</summary>
    public string? FormattedPrevious => Previous is { } p ? FormatValue(p) : null;

    /// <summary>
    /// The change as shown, with its sign: <c>+12 (+3.4%)</c>, <c>−1.2 pp</c> for percentages, <c>+$120.00 (+2.0%)</c>;
    /// null when there is no previous value.
    /// </summary>
    public string? FormattedChange
    {
        get
        {
            if (Change is not { } change) return null;
            var sign = change > 0 ? "+" : change < 0 ? "−" : "±";
            var magnitude = Math.Abs(change);
            var text = Format switch
            {
                KpiFormat.Percent => $"{sign}{(magnitude * 100).ToString("N" + (Decimals ?? 1), CultureInfo.InvariantCulture)} pp",
                KpiFormat.Currency => $"{sign}{Symbol}{magnitude.ToString("N" + (Decimals ?? 2), CultureInfo.InvariantCulture)}",
                _ => $"{sign}{magnitude.ToString("N" + NumberDecimals(), CultureInfo.InvariantCulture)}",
            };
            if (Format != KpiFormat.Percent && Previous is { } previous && previous != 0)
                text += $" ({(change >= 0 ? "+" : "−")}{Math.Abs(change / Math.Abs(previous) * 100).ToString("N1", CultureInfo.InvariantCulture)}%)";
            return text;
        }
    }

    /// <summary>up, down or flat; null without a previous value.</summary>
    public string? Direction => Change switch { null => null, > 0 => "up", < 0 => "down", _ => "flat" };

    /// <summary>Whether the change is good news (by <see cref="HigherIsBetter"/>); null when flat or unknown.</summary>
    public bool? IsImprovement => Change is { } c && c != 0 ? (c > 0) == HigherIsBetter : null;

    string FormatValue(double value) => Format switch
    {
        KpiFormat.Percent => (value * 100).ToString("N" + (Decimals ?? 1), CultureInfo.InvariantCulture) + "%",
        KpiFormat.Currency => (value < 0 ? "−" : "") + Symbol + Math.Abs(value).ToString("N" + (Decimals ?? 2), CultureInfo.InvariantCulture),
        _ => value.ToString("N" + NumberDecimals(), CultureInfo.InvariantCulture),
    };

    // Whole numbers (counts) show without decimals unless the definition asks for some.
    int NumberDecimals() => Decimals ?? (IsWhole(Value) && IsWhole(Previous) ? 0 : 2);

    static bool IsWhole(double? value) => value is not { } v || Math.Abs(v - Math.Round(v)) < 1e-9;
}
