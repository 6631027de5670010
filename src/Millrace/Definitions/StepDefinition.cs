using YamlDotNet.RepresentationModel;

namespace Millrace.Definitions;

/// <summary>
/// One step of a workflow as written: id, kind, inputs and the raw option mapping. The step kind parses its own
/// typed options from <see cref="Options"/> (see <c>Engine/StepCatalog</c>), so errors keep their line and column.
/// </summary>
public sealed class StepDefinition
{
    public required string Id { get; init; }
    public required string Type { get; init; }
    /// <summary>Names of upstream steps or datasets (<c>name</c> or <c>name@vN</c>), from <c>input:</c> or <c>inputs:</c>.</summary>
    public required IReadOnlyList<string> Inputs { get; init; }
    public required YamlMappingNode Options { get; init; }
    public required SourceLocation Location { get; init; }
    /// <summary>Where each input name was written, for errors that point at it.</summary>
    public required IReadOnlyList<SourceLocation> InputLocations { get; init; }
}
