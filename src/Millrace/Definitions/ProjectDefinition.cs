namespace Millrace.Definitions;

/// <summary>
/// A whole project: <c>millrace.yaml</c> plus its workflows and pipelines. Load it with
/// <see cref="Project.Open"/>; check it with <see cref="ProjectValidator"/>.
/// </summary>
public sealed class ProjectDefinition
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public string? Description { get; init; }
    /// <summary>The landing zone, lake-relative (<c>raw</c> by default): Millrace reads it and never writes to it.</summary>
    public string Landing { get; init; } = "raw";
    /// <summary>Absolute path of the project folder.</summary>
    public required string Directory { get; init; }
    /// <summary>Lake root as written (<c>./lake</c> by default), resolved against <see cref="Directory"/>.</summary>
    public required string Lake { get; init; }
    /// <summary>Metadata store: null for the embedded SQLite default, else a connection string (may use <c>${env:NAME}</c>).</summary>
    public string? Store { get; init; }
    public required IReadOnlyDictionary<string, ParameterDefinition> Parameters { get; init; }
    /// <summary>Webhooks for every run of the project (<c>notify:</c> in millrace.yaml).</summary>
    public IReadOnlyList<NotifyDefinition> Notify { get; init; } = [];
    public required IReadOnlyDictionary<string, WorkflowDefinition> Workflows { get; init; }
    public required IReadOnlyDictionary<string, PipelineDefinition> Pipelines { get; init; }
    /// <summary>SHA-256 over every definition file's path and bytes: what a run records as "the definitions it ran".</summary>
    public required string DefinitionsHash { get; init; }

    /// <summary>The lake root as an absolute path.</summary>
    public string LakeRoot => Path.GetFullPath(Path.Combine(Directory, Lake));

    /// <summary>The project-local state folder (<c>.millrace/</c>): the SQLite store and temporary files.</summary>
    public string StateDirectory => Path.Combine(Directory, ".millrace");
}
