using System.Globalization;

namespace Millrace.Parameters;

/// <summary>
/// What the text of a supplied parameter may be. A value comes from a caller who may only start runs (a <c>runner</c>
/// token, a <c>--var</c>), so it is bounded and must be printable text: no NUL, newline or other control character,
/// no unpaired surrogate. <see cref="VarParser"/> and <see cref="ParameterBinder"/> both check it, so the CLI and every
/// API route refuse the same values before a run is recorded.
/// </summary>
public static class ParameterText
{
    /// <summary>The longest value a parameter may have, in characters.</summary>
    public const int MaxValueLength = 4096;

    /// <summary>The longest parameter name, in characters.</summary>
    public const int MaxNameLength = 128;

    /// <summary>The longest <c>workflowParameters</c> string (every <c>--var</c> together), in characters.</summary>
    public const int MaxParametersLength = 256 * 1024;

    /// <summary>Why <paramref name="value"/> cannot be a parameter value (a phrase to follow "the value"), or null when it can.</summary>
    public static string? ValueProblem(string value)
    {
        if (value.Length > MaxValueLength)
            return $"is {value.Length.ToString("N0", CultureInfo.InvariantCulture)} characters long; a value may have at most {MaxValueLength.ToString("N0", CultureInfo.InvariantCulture)}";
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsControl(c))
                return $"holds the control character {CodePoint(c)} at position {i + 1}; a value may not contain NUL, tabs, line breaks or other control characters";
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) { i++; continue; }
            if (char.IsSurrogate(c)) return $"holds an unpaired surrogate {CodePoint(c)} at position {i + 1}; a value must be valid Unicode text";
        }
        return null;
    }

    /// <summary>Why <paramref name="name"/> cannot be a parameter name, or null when it can.</summary>
    public static string? NameProblem(string name) =>
        name.Length > MaxNameLength ? $"a parameter name of {name.Length.ToString("N0", CultureInfo.InvariantCulture)} characters is too long (at most {MaxNameLength})"
        : !VarParser.IsParameterName(name) ? $"'{Shown(name)}' is not a valid parameter name (letters, digits, '_', and '.' for built-ins)"
        : null;

    /// <summary>Text from a caller as it may appear in a message: control characters escaped, at most 64 characters.</summary>
    public static string Shown(string text)
    {
        var shown = string.Concat(text.Take(64).Select(c => char.IsControl(c) || char.IsSurrogate(c) ? CodePoint(c) : c.ToString()));
        return text.Length > 64 ? shown + "…" : shown;
    }

    static string CodePoint(char c) => $"U+{(int)c:X4}";
}
