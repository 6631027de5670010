using System.Text;
using DuckDB.NET.Data;
using System.Text.RegularExpressions;

namespace Millrace.Parameters;

/// <summary>
/// Expands <c>$NAME</c>, <c>${NAME}</c> and <c>${env:NAME}</c> in definition text. In plain text (paths, messages)
/// a reference becomes the value's text; in SQL, DuckDB's parser decides where it stands and the value is placed in
/// the parsed statement (<see cref="SqlExpansion"/>), so a value can never become SQL.
/// </summary>
public static partial class Template
{
    [GeneratedRegex(@"\$\{(?<braced>[^}]*)\}|\$(?<bare>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)")]
    private static partial Regex ReferencePattern();

    /// <summary>A reference found in text: the name (<c>env:X</c> for environment variables) and its offset.</summary>
    public readonly record struct Reference(string Name, int Index, int Length);

    /// <summary>Lists the references in <paramref name="text"/>, resolving bare dotted names against <paramref name="isKnown"/>.</summary>
    public static IReadOnlyList<Reference> FindReferences(string text, Func<string, bool>? isKnown = null)
    {
        var result = new List<Reference>();
        foreach (Match m in ReferencePattern().Matches(text))
        {
            if (IsEscaped(text, m.Index)) continue;
            if (m.Groups["braced"].Success)
            {
                result.Add(new Reference(m.Groups["braced"].Value.Trim(), m.Index, m.Length));
                continue;
            }
            var name = m.Groups["bare"].Value;
            // "$region.x" where only "region" is a parameter: take the longest known dotted prefix.
            if (isKnown is not null && !isKnown(name))
            {
                var parts = name.Split('.');
                for (var n = parts.Length - 1; n >= 1; n--)
                {
                    var prefix = string.Join('.', parts.Take(n));
                    if (isKnown(prefix)) { name = prefix; break; }
                }
            }
            result.Add(new Reference(name, m.Index, name.Length + 1));
        }
        return result;
    }

    /// <summary>Expands references to their text values (for paths and messages).</summary>
    public static string Expand(string text, IReadOnlyDictionary<string, ParameterValue> values) =>
        Replace(text, values, value => value.Text);

    /// <summary>
    /// Expands references in a SQL query so that no value can become SQL: DuckDB's parser decides where each
    /// reference stands, and values are placed in its syntax tree (see <see cref="SqlExpansion"/>).
    /// </summary>
    public static string ExpandSql(DuckDBConnection connection, string sql, IReadOnlyDictionary<string, ParameterValue> values) =>
        SqlExpansion.ExpandStatement(connection, sql, values);

    static string Replace(string text, IReadOnlyDictionary<string, ParameterValue> values, Func<ParameterValue, string> render)
    {
        var references = FindReferences(text, values.ContainsKey);
        if (references.Count == 0) return Unescape(text);
        var builder = new StringBuilder(text.Length + 32);
        var last = 0;
        foreach (var reference in references)
        {
            // "$$" in the text between references is a literal dollar, as it is in text without references.
            builder.Append(Unescape(text[last..reference.Index]));
            builder.Append(render(Resolve(reference.Name, values)));
            last = reference.Index + reference.Length;
        }
        builder.Append(Unescape(text[last..]));
        return builder.ToString();
    }

    internal static string Unescape(string text) => text.Replace("$$", "$", StringComparison.Ordinal);

    // A '$' preceded by an odd number of '$' is the second half of a "$$" escape, not the start of a reference.
    static bool IsEscaped(string text, int index)
    {
        var dollars = 0;
        for (var i = index - 1; i >= 0 && text[i] == '$'; i--) dollars++;
        return dollars % 2 == 1;
    }

    internal static ParameterValue Resolve(string name, IReadOnlyDictionary<string, ParameterValue> values)
    {
        if (values.TryGetValue(name, out var given)) return given;
        if (name.StartsWith("env:", StringComparison.Ordinal))
        {
            var variable = name[4..];
#pragma warning disable RS0030 // ${env:NAME} is the definitions format's documented way to read the environment.
            var value = Environment.GetEnvironmentVariable(variable)
                ?? throw new ParameterException($"environment variable '{variable}' is not set (referenced as ${{env:{variable}}})");
#pragma warning restore RS0030
            return new ParameterValue(Definitions.ParameterType.String, value, value);
        }
        return values.TryGetValue(name, out var v) ? v : throw new ParameterException($"unknown parameter '${name}'; declare it under 'parameters:'");
    }
}
