using Millrace.Definitions;

namespace Millrace.Engine;

/// <summary>Describes one option of a step kind for the catalog, the CLI (<c>millrace steps</c>) and the docs.</summary>
public sealed record StepOptionInfo(string Name, string Type, bool Required, string Description);

/// <summary>
/// A step kind: its name, what it does, its options, and how to parse a definition into an <see cref="IStep"/>.
/// Parsing reports every option problem through the <see cref="YamlNodeReader"/>, with line and column.
/// </summary>
public sealed record StepKind(
    string Name,
    string Summary,
    IReadOnlyList<StepOptionInfo> Options,
    bool ProducesOutput,
    Func<StepDefinition, YamlNodeReader, IStep?> Parse)
{
    /// <summary>Fields every step has, whatever its kind.</summary>
    public static readonly IReadOnlyList<string> CommonFields = ["id", "type", "input", "inputs", "description"];

    /// <summary>Every field this kind accepts: the common ones plus its options.</summary>
    public IReadOnlyList<string> Fields => [.. CommonFields, .. Options.Select(o => o.Name)];
}
