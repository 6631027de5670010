namespace Millrace.Definitions;

/// <summary>A workflow: a DAG of steps, read from <c>workflows/&lt;name&gt;.yaml</c>.</summary>
public sealed class WorkflowDefinition
{
    public required string Name { get; init; }
    public string? Description { get; init; }
    public required IReadOnlyList<StepDefinition> Steps { get; init; }
    /// <summary>Parameters the workflow declares itself (a pipeline may declare more).</summary>
    public required IReadOnlyDictionary<string, ParameterDefinition> Parameters { get; init; }
    /// <summary>How many independent steps may run at once (default 2).</summary>
    public int MaxParallel { get; init; } = 2;
    /// <summary>
    /// <c>memo:</c> (default true): a run skips the workflow, recorded up to date, when its inputs are the same as at its
    /// last successful run (see <c>Engine/WorkflowMemo</c>).
    /// </summary>
    public bool Memo { get; init; } = true;
    /// <summary>SHA-256 of the workflow file's text (hex): the definitions part of the workflow's memo fingerprint.</summary>
    public string DefinitionHash { get; init; } = "";
    public required SourceLocation Location { get; init; }
}
