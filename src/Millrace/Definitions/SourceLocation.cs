namespace Millrace.Definitions;

/// <summary>A place in a definition file: the file (relative to the project), 1-based line and column.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    /// <summary>Formats as <c>file:line:column</c>, the form editors and terminals link to.</summary>
    public override string ToString() => Line > 0 ? $"{File}:{Line}:{Column}" : File;
}
