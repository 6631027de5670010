using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace Millrace.Definitions.Options;

/// <summary>The kinds of value an option can hold, each with its parse rule and its JSON Schema.</summary>
public enum OptionValueKind
{
    /// <summary>A single value (<c>string</c>).</summary>
    Text,
    /// <summary>A whole number (<c>int</c>).</summary>
    Integer,
    /// <summary>A number (<c>double</c>).</summary>
    Number,
    /// <summary><c>true</c> or <c>false</c> (<c>bool</c>).</summary>
    Boolean,
    /// <summary>One of a fixed set of words (an enum).</summary>
    Choice,
    /// <summary>One value or a list of values (<c>IReadOnlyList&lt;string&gt;</c>).</summary>
    List,
    /// <summary>A mapping read as another options record.</summary>
    Mapping,
    /// <summary>A list of mappings, each read as another options record.</summary>
    MappingList,
    /// <summary>Feature columns: a list, or <c>{ include, exclude }</c> (<see cref="FeatureSelection"/>).</summary>
    Features,
    /// <summary>A value with its own grammar, parsed by the step from the raw YAML node.</summary>
    Custom,
}

/// <summary>One declared option: its name, kind, checks and documentation, read from an <see cref="OptionAttribute"/>.</summary>
public sealed record OptionShape(
    string Name,
    string Description,
    OptionValueKind Kind,
    bool Required,
    string TypeText,
    string? DefaultText,
    double? Minimum,
    double? Maximum,
    bool ExclusiveMinimum,
    bool ExclusiveMaximum,
    IReadOnlyList<string> Choices,
    OptionsShape? Nested,
    string? SchemaMethod,
    string? MissingMessage,
    string? Pattern,
    PropertyInfo Property)
{
    /// <summary>The enum type of a <see cref="OptionValueKind.Choice"/> option.</summary>
    public Type? EnumType => Kind == OptionValueKind.Choice ? Nullable.GetUnderlyingType(Property.PropertyType) ?? Property.PropertyType : null;
}

/// <summary>
/// The declared options of one options record type (cached per type): the single source for parsing, the catalog,
/// the docs tables and the JSON Schema.
/// </summary>
public sealed class OptionsShape
{
    static readonly ConcurrentDictionary<Type, OptionsShape> Cache = new();

    OptionsShape(Type type, IReadOnlyList<OptionShape> options)
    {
        Type = type;
        Options = options;
    }

    /// <summary>The options record type.</summary>
    public Type Type { get; }

    /// <summary>The options in declaration order.</summary>
    public IReadOnlyList<OptionShape> Options { get; }

    /// <summary>The option names, for unknown-key checks.</summary>
    public IReadOnlyList<string> Names => Options.Select(o => o.Name).ToList();

    /// <summary>The shape of <typeparamref name="T"/>.</summary>
    public static OptionsShape Of<T>() where T : new() => Of(typeof(T));

    /// <summary>The shape of <paramref name="type"/>, a record with a parameterless constructor and <see cref="OptionAttribute"/> properties.</summary>
    public static OptionsShape Of(Type type) => Cache.GetOrAdd(type, Build);

    static OptionsShape Build(Type type)
    {
        var defaults = Activator.CreateInstance(type) ?? throw new InvalidOperationException($"{type.Name} needs a parameterless constructor");
        var options = new List<OptionShape>();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.MetadataToken))
        {
            if (property.GetCustomAttribute<OptionAttribute>() is not { } option) continue;
            var (kind, nested) = KindOf(property.PropertyType, option);
            var choices = kind == OptionValueKind.Choice ? ChoiceNames(Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType) : [];
            options.Add(new OptionShape(
                option.Name, option.Description, kind, option.Required,
                option.Type ?? TypeText(kind, choices, option),
                option.Default ?? (option.Required ? null : DefaultText(property.GetValue(defaults))),
                double.IsNaN(option.Minimum) ? null : option.Minimum,
                double.IsNaN(option.Maximum) ? null : option.Maximum,
                option.ExclusiveMinimum, option.ExclusiveMaximum, choices, nested, option.Schema, option.Missing, option.Pattern, property));
        }
        return new OptionsShape(type, options);
    }

    static (OptionValueKind, OptionsShape?) KindOf(Type type, OptionAttribute option)
    {
        var plain = Nullable.GetUnderlyingType(type) ?? type;
        if (option.Schema is not null || plain == typeof(YamlNode) || plain.IsSubclassOf(typeof(YamlNode))) return (OptionValueKind.Custom, null);
        if (plain == typeof(string)) return (OptionValueKind.Text, null);
        if (plain == typeof(int)) return (OptionValueKind.Integer, null);
        if (plain == typeof(double)) return (OptionValueKind.Number, null);
        if (plain == typeof(bool)) return (OptionValueKind.Boolean, null);
        if (plain.IsEnum) return (OptionValueKind.Choice, null);
        if (plain == typeof(IReadOnlyList<string>)) return (OptionValueKind.List, null);
        if (plain == typeof(FeatureSelection)) return (OptionValueKind.Features, null);
        if (plain.IsGenericType && plain.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
            return (OptionValueKind.MappingList, Of(plain.GetGenericArguments()[0]));
        if (plain.IsClass && plain.GetConstructor(Type.EmptyTypes) is not null) return (OptionValueKind.Mapping, Of(plain));
        throw new InvalidOperationException($"option '{option.Name}': no option kind for {type.Name}");
    }

    /// <summary>The YAML spellings of an enum's members, in declaration order.</summary>
    public static IReadOnlyList<string> ChoiceNames(Type enumType) =>
        enumType.GetFields(BindingFlags.Public | BindingFlags.Static).Select(ChoiceName).ToList();

    /// <summary>The YAML spelling of one enum value (<c>ReplacePartitions</c> → <c>replace_partitions</c>, or its <see cref="ChoiceAttribute"/>).</summary>
    public static string ChoiceName<TEnum>(TEnum value) where TEnum : struct, Enum =>
        ChoiceName(typeof(TEnum).GetField(value.ToString())!);

    static string ChoiceName(FieldInfo field) => field.GetCustomAttribute<ChoiceAttribute>()?.Name ?? SnakeCase(field.Name);

    static string SnakeCase(string name)
    {
        var text = new StringBuilder();
        foreach (var c in name)
        {
            if (char.IsUpper(c) && text.Length > 0) text.Append('_');
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }

    static string TypeText(OptionValueKind kind, IReadOnlyList<string> choices, OptionAttribute option) => kind switch
    {
        OptionValueKind.Text => "text",
        OptionValueKind.Integer => "int" + Bounds(option),
        OptionValueKind.Number => "number" + Bounds(option),
        OptionValueKind.Boolean => "bool",
        OptionValueKind.Choice => string.Join(" | ", choices),
        OptionValueKind.List => "value or list",
        OptionValueKind.Features => "list, or { include, exclude }",
        OptionValueKind.MappingList => "list of mappings",
        _ => "mapping",
    };

    static string Bounds(OptionAttribute option)
    {
        string F(double v) => v.ToString(CultureInfo.InvariantCulture);
        return (double.IsNaN(option.Minimum), double.IsNaN(option.Maximum)) switch
        {
            (false, false) when option.ExclusiveMinimum || option.ExclusiveMaximum =>
                $" in {(option.ExclusiveMinimum ? "(" : "[")}{F(option.Minimum)}, {F(option.Maximum)}{(option.ExclusiveMaximum ? ")" : "]")}",
            (false, false) => $", {F(option.Minimum)} to {F(option.Maximum)}",
            (false, true) => option.ExclusiveMinimum ? $" > {F(option.Minimum)}" : $" ≥ {F(option.Minimum)}",
            (true, false) => option.ExclusiveMaximum ? $" < {F(option.Maximum)}" : $" ≤ {F(option.Maximum)}",
            _ => "",
        };
    }

    static string? DefaultText(object? value) => value switch
    {
        null => null,
        string s => s.Length == 0 ? null : s,
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString(CultureInfo.InvariantCulture),
        Enum e => ChoiceName(e.GetType().GetField(e.ToString())!),
        _ => null,
    };
}
