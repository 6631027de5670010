using System.Globalization;
using Millrace.Definitions;

namespace Millrace.Parameters;

/// <summary>A parameter's value: its type, the text it came from and the converted value.</summary>
public sealed record ParameterValue(ParameterType Type, string Text, object Value);

/// <summary>Converts parameter text to typed values.</summary>
public static class ParameterValues
{
    /// <summary>Converts <paramref name="text"/> to <paramref name="type"/>; on failure <paramref name="problem"/> says why.</summary>
    public static bool TryConvert(string text, ParameterType type, out ParameterValue? value, out string problem)
    {
        value = null;
        problem = "";
        object? converted = type switch
        {
            ParameterType.String => text,
            ParameterType.Int => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null,
            ParameterType.Double => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null,
            ParameterType.Bool => text.ToLowerInvariant() switch { "true" or "1" or "yes" => true, "false" or "0" or "no" => false, _ => null },
            ParameterType.Date => DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null,
            ParameterType.Timestamp => DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time) ? time : null,
            _ => null,
        };
        if (converted is null)
        {
            problem = $"expects {Describe(type)}, got '{text}'";
            return false;
        }
        value = new ParameterValue(type, text, converted);
        return true;
    }

    static string Describe(ParameterType type) => type switch
    {
        ParameterType.Int => "an integer",
        ParameterType.Double => "a number",
        ParameterType.Bool => "true or false",
        ParameterType.Date => "a date (yyyy-MM-dd)",
        ParameterType.Timestamp => "a timestamp (yyyy-MM-ddTHH:mm:ssZ)",
        _ => "a string",
    };
}

/// <summary>SQL text helpers shared by every place that builds SQL.</summary>
public static class SqlText
{
    /// <summary>A single-quoted SQL string literal with quotes doubled.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>A double-quoted SQL identifier with quotes doubled.</summary>
    public static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
