namespace Millrace.Definitions;

/// <summary>One problem found in a project's definitions: where it is, which step (if any), and what to do.</summary>
public sealed record DefinitionError(SourceLocation Location, string? StepId, string Message)
{
    public override string ToString() =>
        StepId is null ? $"{Location}: {Message}" : $"{Location}: step '{StepId}': {Message}";
}

/// <summary>Thrown when definitions cannot be used; carries every error found, not just the first.</summary>
public sealed class DefinitionException(IReadOnlyList<DefinitionError> errors)
    : Exception(errors.Count == 1 ? errors[0].ToString() : $"{errors.Count} definition errors:" + Environment.NewLine + string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<DefinitionError> Errors { get; } = errors;
}
