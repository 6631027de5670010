using Millrace.Definitions;
using Millrace.Definitions.Options;

namespace Millrace.Engine;

/// <summary>Describes one option of a step kind for the catalog, the CLI (<c>millrace steps</c>) and the docs.</summary>
public sealed record StepOptionInfo(string Name, string Type, bool Required, string Description, string? Default = null);

/// <summary>
/// A step kind: its name, what it does, its options record, and how to build an <see cref="IStep"/> from a
/// definition. The options are declared once, on the record (<see cref="OptionAttribute"/>); the parser, the catalog,
/// the docs tables and the JSON Schema are derived from <see cref="Shape"/>.
/// </summary>
public sealed record StepKind(
    string Name,
    string Summary,
    OptionsShape Shape,
    bool ProducesOutput,
    Func<StepDefinition, YamlNodeReader, IStep?> Parse)
{
    /// <summary>Fields every step has, whatever its kind.</summary>
    public static readonly IReadOnlyList<string> CommonFields = ["id", "type", "input", "inputs", "description"];

    /// <summary>
    /// A kind whose options are <typeparamref name="TOptions"/>: the definition's options are read and checked
    /// (unknown keys, required fields, types, choices, ranges) before <paramref name="build"/> sees them, which adds
    /// the checks that span several options and returns the step, or null when it cannot be built.
    /// </summary>
    public static StepKind Create<TOptions>(string name, string summary, Func<StepDefinition, YamlNodeReader, TOptions, IStep?> build, bool producesOutput = true)
        where TOptions : new() =>
        new(name, summary, OptionsShape.Of<TOptions>(), producesOutput,
            (definition, reader) => build(definition, reader, OptionBinder.Read<TOptions>(definition.Options, reader, $"a {name} step", CommonFields)));

    /// <summary>The kind's options, as the catalog shows them.</summary>
    public IReadOnlyList<StepOptionInfo> Options => Shape.Options.Select(o => new StepOptionInfo(o.Name, o.TypeText, o.Required, o.Description, o.DefaultText)).ToList();

    /// <summary>Every field this kind accepts: the common ones plus its options.</summary>
    public IReadOnlyList<string> Fields => [.. CommonFields, .. Shape.Names];
}
