using System.Text;
using System.Text.RegularExpressions;

namespace Millrace.Parameters;

/// <summary>
/// Expands <c>$NAME</c>, <c>${NAME}</c> and <c>${env:NAME}</c> in definition text. In plain text (paths, messages)
/// a reference becomes the value's text; in SQL it becomes a typed, quoted literal, or, inside a quoted SQL string,
/// the value with its quotes doubled — so a value can never become SQL.
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
        Replace(text, values, (value, _) => value.Text, sql: false);

    /// <summary>
    /// Expands references in SQL by where they stand: in code, a typed literal; inside a '…' string, the text with
    /// quotes doubled (and backslashes too in E'…' strings); inside a "…" identifier, the text with double quotes
    /// doubled; inside a comment, nothing (a value with a newline could otherwise end the comment).
    /// </summary>
    public static string ExpandSql(string sql, IReadOnlyDictionary<string, ParameterValue> values) =>
        Replace(sql, values, (value, context) => context switch
        {
            SqlContext.String => value.Text.Replace("'", "''", StringComparison.Ordinal),
            SqlContext.EscapeString => value.Text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal),
            SqlContext.Identifier => value.Text.Replace("\"", "\"\"", StringComparison.Ordinal),
            SqlContext.Comment => null,
            _ => value.ToSqlLiteral(),
        }, sql: true);

    /// <summary>Where a position of SQL text lies, lexically.</summary>
    internal enum SqlContext : byte { Code, String, EscapeString, Identifier, Comment }

    static string Replace(string text, IReadOnlyDictionary<string, ParameterValue> values, Func<ParameterValue, SqlContext, string?> render, bool sql)
    {
        var references = FindReferences(text, values.ContainsKey);
        if (references.Count == 0) return Unescape(text);
        var contexts = sql ? Lex(text) : null;
        var builder = new StringBuilder(text.Length + 32);
        var last = 0;
        foreach (var reference in references)
        {
            // "$$" in the text between references is a literal dollar, as it is in text without references.
            builder.Append(Unescape(text[last..reference.Index]));
            var context = contexts?[reference.Index] ?? SqlContext.Code;
            builder.Append(context == SqlContext.Comment ? text.AsSpan(reference.Index, reference.Length) : render(Resolve(reference.Name, values), context));
            last = reference.Index + reference.Length;
        }
        builder.Append(Unescape(text[last..]));
        return builder.ToString();
    }

    static string Unescape(string text) => text.Replace("$$", "$", StringComparison.Ordinal);

    // A '$' preceded by an odd number of '$' is the second half of a "$$" escape, not the start of a reference.
    static bool IsEscaped(string text, int index)
    {
        var dollars = 0;
        for (var i = index - 1; i >= 0 && text[i] == '$'; i--) dollars++;
        return dollars % 2 == 1;
    }

    static ParameterValue Resolve(string name, IReadOnlyDictionary<string, ParameterValue> values)
    {
        if (name.StartsWith("env:", StringComparison.Ordinal))
        {
            var variable = name[4..];
            var value = Environment.GetEnvironmentVariable(variable)
                ?? throw new ParameterException($"environment variable '{variable}' is not set (referenced as ${{env:{variable}}})");
            return new ParameterValue(Definitions.ParameterType.String, value, value);
        }
        return values.TryGetValue(name, out var v) ? v : throw new ParameterException($"unknown parameter '${name}'; declare it under 'parameters:'");
    }

    /// <summary>For each character of <paramref name="sql"/>, the lexical context it lies in.</summary>
    internal static SqlContext[] Lex(string sql)
    {
        var contexts = new SqlContext[sql.Length];
        var state = SqlContext.Code;
        var blockComment = false;
        for (var i = 0; i < sql.Length; i++)
        {
            var c = sql[i];
            var next = i + 1 < sql.Length ? sql[i + 1] : '\0';
            switch (state)
            {
                case SqlContext.Code:
                    if (c == '\'')
                    {
                        var escape = i > 0 && sql[i - 1] is 'e' or 'E' && (i < 2 || !(char.IsLetterOrDigit(sql[i - 2]) || sql[i - 2] == '_'));
                        state = escape ? SqlContext.EscapeString : SqlContext.String;
                    }
                    else if (c == '"') state = SqlContext.Identifier;
                    else if (c == '-' && next == '-') { contexts[i] = SqlContext.Comment; contexts[++i] = SqlContext.Comment; state = SqlContext.Comment; blockComment = false; continue; }
                    else if (c == '/' && next == '*') { contexts[i] = SqlContext.Comment; contexts[++i] = SqlContext.Comment; state = SqlContext.Comment; blockComment = true; continue; }
                    contexts[i] = SqlContext.Code;
                    break;
                case SqlContext.String or SqlContext.EscapeString:
                    contexts[i] = state;
                    if (state == SqlContext.EscapeString && c == '\\') { if (i + 1 < sql.Length) contexts[++i] = state; }
                    else if (c == '\'' && next == '\'') contexts[++i] = state;
                    else if (c == '\'') state = SqlContext.Code;
                    break;
                case SqlContext.Identifier:
                    contexts[i] = state;
                    if (c == '"' && next == '"') contexts[++i] = state;
                    else if (c == '"') state = SqlContext.Code;
                    break;
                default:
                    contexts[i] = SqlContext.Comment;
                    if (!blockComment && c == '\n') state = SqlContext.Code;
                    else if (blockComment && c == '*' && next == '/') { contexts[++i] = SqlContext.Comment; state = SqlContext.Code; }
                    break;
            }
        }
        return contexts;
    }
}
