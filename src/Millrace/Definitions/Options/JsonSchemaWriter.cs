using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Millrace.Definitions.Options;

/// <summary>
/// Writes JSON Schema (draft 2020-12) fragments from <see cref="OptionsShape"/>s: an object per options record with
/// <c>additionalProperties: false</c>, a description per field, enums for choices and bounds for numbers.
/// </summary>
public static partial class JsonSchemaWriter
{
    /// <summary>The schema of a mapping read as <paramref name="shape"/>, plus <paramref name="otherProperties"/> (a step's common fields).</summary>
    public static JsonObject Object(OptionsShape shape, JsonObject? otherProperties = null, IEnumerable<string>? otherRequired = null)
    {
        var properties = otherProperties?.DeepClone().AsObject() ?? [];
        foreach (var option in shape.Options) properties[option.Name] = Option(option);
        var required = new JsonArray([.. (otherRequired ?? []).Concat(shape.Options.Where(o => o.Required).Select(o => o.Name)).Select(n => (JsonNode)n)]);
        var schema = new JsonObject { ["type"] = "object", ["additionalProperties"] = false, ["properties"] = properties };
        if (required.Count > 0) schema["required"] = required;
        return schema;
    }

    /// <summary>The schema of one option's value.</summary>
    public static JsonObject Option(OptionShape option)
    {
        var schema = option.Kind switch
        {
            OptionValueKind.Text when option.Pattern is { } pattern => new JsonObject { ["type"] = "string", ["pattern"] = pattern },
            OptionValueKind.Text => Scalar(),
            OptionValueKind.Integer => Number("integer", option),
            OptionValueKind.Number => Number("number", option),
            OptionValueKind.Boolean => new JsonObject { ["type"] = "boolean" },
            OptionValueKind.Choice => new JsonObject { ["enum"] = new JsonArray([.. option.Choices.Select(c => (JsonNode)c)]) },
            OptionValueKind.List => ValueOrList(null),
            OptionValueKind.Features => Features(),
            OptionValueKind.Mapping => Object(option.Nested!),
            OptionValueKind.MappingList => new JsonObject { ["type"] = "array", ["items"] = Object(option.Nested!) },
            _ => Custom(option),
        };
        schema["description"] = Plain(option.Description) + (option.DefaultText is { } d ? $" Default: {Plain(d)}." : "");
        if (!option.Required && option.DefaultText is { } value)
        {
            JsonNode? literal = option.Property.GetValue(Activator.CreateInstance(option.Property.DeclaringType!)) switch
            {
                bool b => b, int i => i, double x => x, System.Enum => value, _ => null,
            };
            if (literal is not null) schema["default"] = literal;
        }
        return schema;
    }

    /// <summary>A single value as a loader reads it: text, or a number or boolean YAML would type (read as its text).</summary>
    public static JsonObject Scalar() => new() { ["type"] = new JsonArray("string", "number", "boolean", "null") };

    /// <summary>One value or a list of values.</summary>
    public static JsonObject ValueOrList(string? description)
    {
        var schema = new JsonObject
        {
            ["anyOf"] = new JsonArray(Scalar(), new JsonObject { ["type"] = "array", ["items"] = Scalar() }),
        };
        if (description is not null) schema["description"] = description;
        return schema;
    }

    /// <summary>One of <paramref name="values"/>.</summary>
    public static JsonObject Enum(IEnumerable<string> values, string description) =>
        new() { ["enum"] = new JsonArray([.. values.Select(v => (JsonNode)v)]), ["description"] = description };

    static JsonObject Number(string type, OptionShape option)
    {
        var schema = new JsonObject { ["type"] = type };
        if (option.Minimum is { } min) schema[option.ExclusiveMinimum ? "exclusiveMinimum" : "minimum"] = min;
        if (option.Maximum is { } max) schema[option.ExclusiveMaximum ? "exclusiveMaximum" : "maximum"] = max;
        return schema;
    }

    static JsonObject Features() => new()
    {
        ["anyOf"] = new JsonArray(
            ValueOrList(null),
            new JsonObject
            {
                ["type"] = "object", ["additionalProperties"] = false,
                ["properties"] = new JsonObject { ["include"] = ValueOrList("Columns to use (default: all eligible)."), ["exclude"] = ValueOrList("Columns to leave out.") },
            }),
    };

    static JsonObject Custom(OptionShape option)
    {
        var method = option.SchemaMethod is { } name ? option.Property.DeclaringType!.GetMethod(name, BindingFlags.Public | BindingFlags.Static) : null;
        return method?.Invoke(null, null) as JsonObject ?? [];
    }

    /// <summary>Markdown as plain text: links become their text.</summary>
    public static string Plain(string markdown) => Link().Replace(markdown, "$1");

    [GeneratedRegex(@"\[([^\]]+)\]\([^)]+\)")]
    private static partial Regex Link();
}
