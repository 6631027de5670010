using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Millrace.Definitions.Options;

/// <summary>
/// Reads an options record from a YAML mapping by its <see cref="OptionsShape"/>: unknown keys, missing required
/// fields, wrong types, unknown choices and values out of range are each recorded on the <see cref="YamlNodeReader"/>
/// with file, line and column and the option's name. Fields that are absent or wrong keep the record's defaults, so
/// a caller compares <see cref="YamlNodeReader.Errors"/> before and after to know whether the record is sound.
/// </summary>
public static class OptionBinder
{
    /// <summary>
    /// Reads <typeparamref name="T"/> from <paramref name="map"/>; <paramref name="what"/> names the mapping in errors
    /// ("a sql step"); <paramref name="otherFields"/> are keys that belong to the mapping but not to the record (a
    /// step's id, type and inputs).
    /// </summary>
    public static T Read<T>(YamlMappingNode map, YamlNodeReader reader, string what, IReadOnlyCollection<string>? otherFields = null) where T : new() =>
        (T)Read(OptionsShape.Of<T>(), map, reader, what, otherFields ?? []);

    static object Read(OptionsShape shape, YamlMappingNode map, YamlNodeReader reader, string what, IReadOnlyCollection<string> otherFields)
    {
        reader.RejectUnknownKeys(map, [.. otherFields, .. shape.Names], what);
        var record = Activator.CreateInstance(shape.Type)!;
        foreach (var option in shape.Options)
        {
            if (ReadValue(option, map, reader) is { } value) option.Property.SetValue(record, value);
        }
        return record;
    }

    static object? ReadValue(OptionShape option, YamlMappingNode map, YamlNodeReader reader)
    {
        var name = option.Name;
        var node = YamlNodeReader.Find(map, name);
        if (node is null)
        {
            if (option.Required) reader.Error(map, option.MissingMessage ?? $"missing required field '{name}'");
            return null;
        }
        switch (option.Kind)
        {
            case OptionValueKind.Text:
                return reader.String(map, name);
            case OptionValueKind.Integer:
                return reader.Int(map, name, option.Minimum is { } min ? (int)Math.Ceiling(option.ExclusiveMinimum ? min + 1 : min) : null) is { } i && InRange(option, node, reader, i) ? i : null;
            case OptionValueKind.Number:
                return reader.Double(map, name) is { } d && InRange(option, node, reader, d) ? d : null;
            case OptionValueKind.Boolean:
                return reader.Bool(map, name);
            case OptionValueKind.Choice:
                return reader.String(map, name) is { } text ? Choice(option, node, reader, text) : null;
            case OptionValueKind.List:
                return reader.StringList(map, name).Select(v => v.Value).ToList();
            case OptionValueKind.Features:
                return Features(map, node, reader, name);
            case OptionValueKind.Mapping:
                return reader.Mapping(map, name) is { } nested ? Read(option.Nested!, nested, reader, $"'{name}'", []) : null;
            case OptionValueKind.MappingList:
                return MappingList(option, node, reader);
            default:
                return node;
        }
    }

    static bool InRange(OptionShape option, YamlNode node, YamlNodeReader reader, double value)
    {
        string F(double v) => v.ToString(CultureInfo.InvariantCulture);
        var (min, max, name) = (option.Minimum, option.Maximum, option.Name);
        var low = min is { } lo && (option.ExclusiveMinimum ? value <= lo : value < lo);
        var high = max is { } hi && (option.ExclusiveMaximum ? value >= hi : value > hi);
        if (!low && !high) return true;
        var bound = (min, max) switch
        {
            (0, null) when option.ExclusiveMinimum => "positive",
            ({ } a, null) => option.ExclusiveMinimum ? $"more than {F(a)}" : $"at least {F(a)}",
            (null, { } b) => option.ExclusiveMaximum ? $"less than {F(b)}" : $"at most {F(b)}",
            ({ } a, { } b) when option.ExclusiveMinimum && option.ExclusiveMaximum => $"between {F(a)} and {F(b)} (both excluded)",
            ({ } a, { } b) when option.ExclusiveMinimum => $"more than {F(a)} and at most {F(b)}",
            ({ } a, { } b) when option.ExclusiveMaximum => $"at least {F(a)} and less than {F(b)}",
            ({ } a, { } b) => $"between {F(a)} and {F(b)}",
            _ => "",
        };
        reader.Error(node, $"{name} must be {bound}, got {F(value)}");
        return false;
    }

    static object? Choice(OptionShape option, YamlNode node, YamlNodeReader reader, string text)
    {
        var index = option.Choices.ToList().IndexOf(text);
        if (index >= 0) return Enum.GetValues(option.EnumType!).GetValue(index);
        reader.Error(node, $"{option.Name} must be {Alternatives(option.Choices)}, got '{text}'{ProjectValidator.Suggest(text, option.Choices)}");
        return null;
    }

    /// <summary>Words joined for a message: <c>a, b or c</c>.</summary>
    public static string Alternatives(IReadOnlyList<string> words) =>
        words.Count == 1 ? words[0] : $"{string.Join(", ", words.Take(words.Count - 1))} or {words[^1]}";

    static FeatureSelection? Features(YamlMappingNode map, YamlNode node, YamlNodeReader reader, string name)
    {
        switch (node)
        {
            case YamlSequenceNode or YamlScalarNode:
                return new FeatureSelection { Include = reader.StringList(map, name).Select(f => f.Value).ToList() };
            case YamlMappingNode features:
                reader.RejectUnknownKeys(features, ["include", "exclude"], $"'{name}'");
                return new FeatureSelection
                {
                    Include = reader.StringList(features, "include").Select(f => f.Value).ToList(),
                    Exclude = reader.StringList(features, "exclude").Select(f => f.Value).ToList(),
                };
            default:
                return null;
        }
    }

    static object? MappingList(OptionShape option, YamlNode node, YamlNodeReader reader)
    {
        if (node is not YamlSequenceNode sequence)
        {
            reader.Error(node, $"'{option.Name}' must be a list of mappings");
            return null;
        }
        var list = (System.Collections.IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(option.Nested!.Type))!;
        foreach (var item in sequence)
        {
            if (item is YamlMappingNode entry) list.Add(Read(option.Nested, entry, reader, $"an entry of '{option.Name}'", []));
            else reader.Error(item, $"each entry of '{option.Name}' must be a mapping");
        }
        return list;
    }
}
