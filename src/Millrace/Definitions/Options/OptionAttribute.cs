namespace Millrace.Definitions.Options;

/// <summary>
/// Declares a property of an options record as a definition field: its YAML name, what it means, and the checks the
/// parser makes. The parser (<see cref="OptionBinder"/>), the <c>millrace steps</c> catalog, the docs tables and the
/// JSON Schema are all derived from these declarations (<see cref="OptionsShape"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionAttribute(string name, string description) : Attribute
{
    /// <summary>The pattern of a duration (<see cref="Durations"/>): <c>30s</c>, <c>5m</c>, <c>1.5h</c>, <c>90d</c>.</summary>
    public const string DurationPattern = @"^\s*[0-9]{1,28}(\.[0-9]{1,9})?[smhd]\s*$";

    /// <summary>The field's name as written in YAML.</summary>
    public string Name { get; } = name;

    /// <summary>What the field means, for the catalog, the docs and the schema's <c>description</c>.</summary>
    public string Description { get; } = description;

    /// <summary>A missing field is an error at its mapping.</summary>
    public bool Required { get; init; }

    /// <summary>The message for a missing required field, where a hint helps more than "missing required field".</summary>
    public string? Missing { get; init; }

    /// <summary>How the catalog shows the type (default: derived from the property type, e.g. <c>int</c>, <c>warn | fail</c>).</summary>
    public string? Type { get; init; }

    /// <summary>How the docs show the default when it is not a plain value of the property (e.g. "from the extension").</summary>
    public string? Default { get; init; }

    /// <summary>Smallest value allowed (numbers and integers); <see cref="double.NaN"/> for none.</summary>
    public double Minimum { get; init; } = double.NaN;

    /// <summary>Largest value allowed (numbers and integers); <see cref="double.NaN"/> for none.</summary>
    public double Maximum { get; init; } = double.NaN;

    /// <summary>The value must be strictly greater than <see cref="Minimum"/> (0 with this means "positive").</summary>
    public bool ExclusiveMinimum { get; init; }

    /// <summary>The value must be strictly less than <see cref="Maximum"/>.</summary>
    public bool ExclusiveMaximum { get; init; }

    /// <summary>A regular expression a text value matches, for the JSON Schema (the reader of the value checks it with its own message).</summary>
    public string? Pattern { get; init; }

    /// <summary>
    /// For a field whose value has its own grammar (a <c>YamlNode</c> property the step parses itself): the name of a
    /// static method on the options record returning its JSON Schema (<c>System.Text.Json.Nodes.JsonObject</c>).
    /// </summary>
    public string? Schema { get; init; }
}

/// <summary>The YAML spelling of an enum member, where it is not the member's name in snake_case.</summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class ChoiceAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
