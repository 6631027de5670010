using System.Text;

namespace Millrace.Parameters;

/// <summary>A <c>--var</c> that cannot be understood; the message says what and where.</summary>
public sealed class VarSyntaxException(string message) : Exception(message);

/// <summary>
/// Parses workflow parameters the way Sparkflows accepts them: <c>--var NAME=VALUE</c>, also <c>--var NAME = VALUE</c>,
/// quoted values (<c>"…"</c> or <c>'…'</c>) and several <c>--var</c>. A value runs to the next <c>--var</c>.
/// </summary>
public static class VarParser
{
    /// <summary>Parses a Sparkflows <c>workflowParameters</c> string, e.g. <c>--var region = "North" --var day=2024-01-02</c>.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Parse(string? workflowParameters)
    {
        if (string.IsNullOrWhiteSpace(workflowParameters)) return [];
        if (workflowParameters.Length > ParameterText.MaxParametersLength)
            throw new VarSyntaxException($"the parameters are {workflowParameters.Length:N0} characters long; at most {ParameterText.MaxParametersLength:N0} are accepted");
        return ParseTokens(Tokenize(workflowParameters));
    }

    /// <summary>Splits like a POSIX shell: whitespace separates, quotes group and are removed, backslash escapes in double quotes.</summary>
    public static IReadOnlyList<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        var inToken = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                if (inToken) { tokens.Add(current.ToString()); current.Clear(); inToken = false; }
                continue;
            }
            inToken = true;
            if (c is '"' or '\'')
            {
                var start = i;
                for (i++; i < text.Length && text[i] != c; i++)
                {
                    if (c == '"' && text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\') i++;
                    current.Append(text[i]);
                }
                if (i >= text.Length)
                    throw new VarSyntaxException($"unterminated {(c == '"' ? "double" : "single")} quote opened at column {start + 1} of the parameters");
                continue;
            }
            current.Append(c);
        }
        if (inToken) tokens.Add(current.ToString());
        return tokens;
    }

    /// <summary>Parses already split tokens (command-line arguments): <c>--var</c>, then an assignment in one to three tokens.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ParseTokens(IReadOnlyList<string> tokens)
    {
        var result = new List<KeyValuePair<string, string>>();
        var i = 0;
        while (i < tokens.Count)
        {
            if (tokens[i] != "--var")
                throw new VarSyntaxException($"expected '--var NAME=VALUE' but found '{ParameterText.Shown(tokens[i])}' (argument {i + 1})");
            i++;
            var end = i;
            while (end < tokens.Count && tokens[end] != "--var") end++;
            if (end == i) throw new VarSyntaxException($"'--var' at argument {i} is not followed by NAME=VALUE");
            var assignment = string.Join(' ', tokens.Skip(i).Take(end - i));
            var equals = FindAssignment(tokens, i, end);
            if (equals < 0)
                throw new VarSyntaxException($"'--var {ParameterText.Shown(assignment)}' has no '=': write --var NAME=VALUE");
            var name = assignment[..equals].Trim();
            var value = assignment[(equals + 1)..].Trim();
            if (name.Length == 0) throw new VarSyntaxException($"'--var {assignment}' has no name before '='");
            if (ParameterText.NameProblem(name) is { } badName) throw new VarSyntaxException(badName);
            if (result.Any(p => p.Key == name)) throw new VarSyntaxException($"parameter '{name}' is given twice");
            if (ParameterText.ValueProblem(value) is { } badValue) throw new VarSyntaxException($"the value of parameter '{name}' {badValue}");
            result.Add(new(name, value));
            i = end;
        }
        return result;
    }

    // The '=' that separates name from value is the first one in the joined text of the assignment's tokens;
    // quotes have been removed by then, so a value may itself contain '='.
    static int FindAssignment(IReadOnlyList<string> tokens, int start, int end) =>
        string.Join(' ', tokens.Skip(start).Take(end - start)).IndexOf('=', StringComparison.Ordinal);

    /// <summary>Whether <paramref name="name"/> is a parameter name: dot-separated parts of letters, digits and '_', not starting with a digit.</summary>
    public static bool IsParameterName(string name) =>
        name.Split('.').All(part => part.Length > 0 && (char.IsAsciiLetter(part[0]) || part[0] == '_') && part.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'));
}
