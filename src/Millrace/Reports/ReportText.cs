using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Millrace.Reports;

/// <summary>
/// Turns the markdown-ish text of a report's text blocks into HTML: paragraphs separated by blank lines, lists of
/// lines starting with <c>- </c> or <c>* </c>, headings <c>#</c> / <c>##</c>, and inline <c>**bold**</c>,
/// <c>*italic*</c> and <c>`code`</c>. Everything is HTML-escaped first, so text (and the parameters in it) can never
/// add markup, scripts or links.
/// </summary>
public static partial class ReportText
{
    public static string ToHtml(string text)
    {
        var html = new StringBuilder();
        foreach (var block in Blocks().Split(text.ReplaceLineEndings("\n").Trim('\n')))
        {
            var lines = block.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
            if (lines.Count == 0) continue;
            if (lines.All(l => l.StartsWith("- ", StringComparison.Ordinal) || l.StartsWith("* ", StringComparison.Ordinal)))
            {
                html.Append("<ul>");
                foreach (var line in lines) html.Append("<li>").Append(Inline(line[2..].Trim())).Append("</li>");
                html.Append("</ul>\n");
            }
            else if (lines[0].StartsWith('#'))
            {
                var level = lines[0].TakeWhile(c => c == '#').Count();
                var tag = level == 1 ? "h3" : "h4";
                html.Append('<').Append(tag).Append('>').Append(Inline(lines[0][level..].Trim())).Append("</").Append(tag).Append(">\n");
                if (lines.Count > 1) html.Append("<p>").Append(Inline(string.Join(' ', lines.Skip(1)))).Append("</p>\n");
            }
            else html.Append("<p>").Append(Inline(string.Join(' ', lines))).Append("</p>\n");
        }
        return html.ToString();
    }

    static string Inline(string text)
    {
        var escaped = WebUtility.HtmlEncode(text);
        // Code spans first, so '*' inside them stays literal.
        var parts = CodeSpan().Split(escaped);
        var result = new StringBuilder();
        for (var i = 0; i < parts.Length; i++)
        {
            if (i % 2 == 1) { result.Append("<code>").Append(parts[i]).Append("</code>"); continue; }
            var part = Bold().Replace(parts[i], "<strong>$1</strong>");
            result.Append(Italic().Replace(part, "<em>$1</em>"));
        }
        return result.ToString();
    }

    [GeneratedRegex(@"\n[ \t]*\n")]
    private static partial Regex Blocks();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"\*\*(\S(?:.*?\S)?)\*\*")]
    private static partial Regex Bold();

    [GeneratedRegex(@"(?<![\*\w])\*(\S(?:.*?\S)?)\*(?![\*\w])")]
    private static partial Regex Italic();
}
