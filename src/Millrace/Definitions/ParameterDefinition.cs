namespace Millrace.Definitions;

/// <summary>The value types a declared parameter can take.</summary>
public enum ParameterType { String, Int, Double, Bool, Date, Timestamp }

/// <summary>A declared parameter: its type, default (null = required) and description.</summary>
public sealed record ParameterDefinition(string Name, ParameterType Type, string? Default, string? Description, SourceLocation Location)
{
    /// <summary>True when a run must supply a value because there is no default.</summary>
    public bool Required => Default is null;
}
