using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Millrace.Definitions;

/// <summary>
/// Turns the text of one definition file into its root mapping, or into one located <see cref="DefinitionError"/>:
/// no parser exception escapes. Before the document is built, one pass over the parser's events bounds what would
/// make building or walking it unbounded: nesting deeper than <see cref="MaxDepth"/> (the node builder recurses),
/// aliases that point into the node that holds them (a cycle), aliases to no earlier anchor, and aliases whose
/// expansion exceeds <see cref="MaxNodes"/> values (a "billion laughs" document).
/// </summary>
static class YamlDocuments
{
    /// <summary>The largest definition file read.</summary>
    public const int MaxFileBytes = 2 * 1024 * 1024;

    /// <summary>How deeply mappings and sequences may nest.</summary>
    public const int MaxDepth = 64;

    /// <summary>How many values a file may hold with every alias expanded.</summary>
    public const int MaxNodes = 200_000;

    /// <summary>Reads <paramref name="text"/> (of <paramref name="file"/>, as named in errors); null after adding an error.</summary>
    public static YamlMappingNode? Read(string file, string text, List<DefinitionError> errors)
    {
        if (text.Length > MaxFileBytes)
            return Fail(errors, new SourceLocation(file, 1, 1), $"the file is {text.Length / 1024:N0} KiB; a definition file may hold at most {MaxFileBytes / 1024 / 1024} MiB");
        if (FindNonPrintable(text) is { } bad)
            return Fail(errors, new SourceLocation(file, bad.Line, bad.Column), $"the file holds the control character U+{bad.Character:X4}, which YAML does not allow (only tab, line feed and carriage return); remove it");
        var scanner = new Scanner(new StringReader(text), skipComments: true);
        try
        {
            var events = new List<ParsingEvent>();
            if (CheckBounds(new Parser(scanner), events) is { } problem)
                return Fail(errors, new SourceLocation(file, (int)problem.At.Line, (int)problem.At.Column), problem.Message);
            var stream = new YamlStream();
            stream.Load(new Replay(events));
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
                return Fail(errors, new SourceLocation(file, 1, 1), "the file must be a YAML mapping (key: value pairs)");
            return root;
        }
        catch (YamlException e)
        {
            var message = (e.InnerException?.Message ?? e.Message).Trim();
            return Fail(errors, Located(file, e.Start), $"invalid YAML: {message}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // YamlDotNet throws other exceptions for some malformed input (InvalidOperationException for an unclosed
            // flow mapping followed by more lines): the text is at fault, never the process.
            return Fail(errors, Located(file, scanner.CurrentPosition), "invalid YAML: the parser could not read past this point (look for an unclosed '{', '[' or quote above it)");
        }
    }

    /// <summary>The first character outside YAML's printable set (C0 and C1 controls but tab, LF, CR and NEL; U+FFFE, U+FFFF).</summary>
    static (int Line, int Column, int Character)? FindNonPrintable(string text)
    {
        int line = 1, column = 1;
        foreach (var c in text)
        {
            if ((c < ' ' && c is not ('\t' or '\n' or '\r')) || (c >= '\u007f' && c <= '\u009f' && c != '\u0085') || c is '\ufffe' or '\uffff')
                return (line, column, c);
            if (c == '\n') (line, column) = (line + 1, 1);
            else column++;
        }
        return null;
    }

    static YamlMappingNode? Fail(List<DefinitionError> errors, SourceLocation location, string message)
    {
        errors.Add(new DefinitionError(location, null, message));
        return null;
    }

    /// <summary>A mark as a location, never before line 1, column 1.</summary>
    static SourceLocation Located(string file, Mark mark) => new(file, (int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column));

    sealed record Problem(Mark At, string Message);

    sealed class Open(string? anchor)
    {
        public string? Anchor { get; } = anchor;
        public long Nodes { get; set; } = 1;
    }

    /// <summary>The events of the bounds pass, fed to the node builder so the text is parsed once.</summary>
    sealed class Replay(List<ParsingEvent> events) : IParser
    {
        int _next;

        public ParsingEvent? Current { get; private set; }

        public bool MoveNext()
        {
            Current = _next < events.Count ? events[_next++] : null;
            return Current is not null;
        }
    }

    static Problem? CheckBounds(IParser parser, List<ParsingEvent> events)
    {
        var complete = new Dictionary<string, long>(StringComparer.Ordinal);
        var open = new Stack<Open>();
        long total = 0;
        while (parser.MoveNext())
        {
            var current = parser.Current!;
            events.Add(current);
            long nodes;
            switch (current)
            {
                case DocumentStart:
                    complete.Clear();
                    continue;
                case MappingStart or SequenceStart:
                    if (open.Count >= MaxDepth)
                        return new Problem(current.Start, $"mappings and lists nest more than {MaxDepth} levels deep here");
                    var anchor = AnchorOf(current);
                    if (anchor is not null) complete.Remove(anchor);
                    open.Push(new Open(anchor));
                    continue;
                case MappingEnd or SequenceEnd:
                    var closed = open.Pop();
                    if (closed.Anchor is not null) complete[closed.Anchor] = closed.Nodes;
                    nodes = closed.Nodes;
                    break;
                case Scalar:
                    if (AnchorOf(current) is { } scalarAnchor) complete[scalarAnchor] = 1;
                    nodes = 1;
                    break;
                case AnchorAlias alias:
                    var name = alias.Value.Value;
                    if (!complete.TryGetValue(name, out nodes))
                        return new Problem(current.Start, open.Any(o => o.Anchor == name)
                            ? $"alias '*{name}' points into the node that anchors it (a cycle)"
                            : $"alias '*{name}' names no anchor '&{name}' defined before it");
                    break;
                default:
                    continue;
            }
            if (open.TryPeek(out var parent)) parent.Nodes += nodes;
            else total += nodes;
            if ((parent?.Nodes ?? total) > MaxNodes)
                return new Problem(current.Start, $"with its aliases expanded the file holds more than {MaxNodes:N0} values (aliases that repeat aliases grow exponentially)");
        }
        return null;
    }

    static string? AnchorOf(ParsingEvent e) => e is NodeEvent { Anchor: { IsEmpty: false } anchor } ? anchor.Value : null;
}
