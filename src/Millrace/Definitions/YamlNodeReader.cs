using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Millrace.Definitions;

/// <summary>
/// Reads typed values out of a YAML mapping and records an error with file, line and column for each value that is
/// missing, of the wrong shape or unknown. Used by the loader and by step kinds for their own options.
/// </summary>
public sealed class YamlNodeReader(string file, List<DefinitionError> errors, string? stepId = null)
{
    public string File { get; } = file;
    public List<DefinitionError> Errors { get; } = errors;
    public string? StepId { get; } = stepId;

    public SourceLocation At(YamlNode node) => new(File, (int)node.Start.Line, (int)node.Start.Column);

    public void Error(YamlNode node, string message) => Errors.Add(new DefinitionError(At(node), StepId, message));

    /// <summary>Returns a reader that tags its errors with a step id.</summary>
    public YamlNodeReader ForStep(string id) => new(File, Errors, id);

    public static YamlNode? Find(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    /// <summary>Reports keys that are not in <paramref name="known"/> (a typo would otherwise be silently ignored).</summary>
    public void RejectUnknownKeys(YamlMappingNode map, IReadOnlyCollection<string> known, string what)
    {
        foreach (var key in map.Children.Keys)
        {
            var name = (key as YamlScalarNode)?.Value ?? "";
            if (!known.Contains(name))
                Error(key, $"unknown field '{name}' in {what} (known: {string.Join(", ", known.Order())})");
        }
    }

    public string? String(YamlMappingNode map, string key, bool required = false)
    {
        var node = Find(map, key);
        if (node is null)
        {
            if (required) Error(map, $"missing required field '{key}'");
            return null;
        }
        if (node is YamlScalarNode scalar) return scalar.Value;
        Error(node, $"field '{key}' must be a single value");
        return null;
    }

    public int? Int(YamlMappingNode map, string key, int? min = null)
    {
        var text = String(map, key);
        if (text is null) return null;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            Error(Find(map, key)!, $"field '{key}' must be an integer, got '{text}'");
            return null;
        }
        if (min is not null && value < min)
        {
            Error(Find(map, key)!, $"field '{key}' must be at least {min}, got {value}");
            return null;
        }
        return value;
    }

    public double? Double(YamlMappingNode map, string key)
    {
        var text = String(map, key);
        if (text is null) return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) return value;
        Error(Find(map, key)!, $"field '{key}' must be a number, got '{text}'");
        return null;
    }

    public bool? Bool(YamlMappingNode map, string key)
    {
        var text = String(map, key);
        if (text is null) return null;
        switch (text.ToLowerInvariant())
        {
            case "true" or "yes" or "on": return true;
            case "false" or "no" or "off": return false;
            default:
                Error(Find(map, key)!, $"field '{key}' must be true or false, got '{text}'");
                return null;
        }
    }

    /// <summary>A list of strings written as a YAML sequence or as one scalar.</summary>
    public IReadOnlyList<(string Value, SourceLocation Location)> StringList(YamlMappingNode map, string key)
    {
        var node = Find(map, key);
        switch (node)
        {
            case null: return [];
            case YamlScalarNode scalar when !string.IsNullOrEmpty(scalar.Value): return [(scalar.Value!, At(scalar))];
            case YamlSequenceNode sequence:
                var list = new List<(string, SourceLocation)>();
                foreach (var item in sequence)
                {
                    if (item is YamlScalarNode s && !string.IsNullOrEmpty(s.Value)) list.Add((s.Value!, At(s)));
                    else Error(item, $"items of '{key}' must be single values");
                }
                return list;
            default:
                Error(node, $"field '{key}' must be a value or a list of values");
                return [];
        }
    }

    public YamlMappingNode? Mapping(YamlMappingNode map, string key, bool required = false)
    {
        var node = Find(map, key);
        if (node is null)
        {
            if (required) Error(map, $"missing required field '{key}'");
            return null;
        }
        if (node is YamlMappingNode mapping) return mapping;
        Error(node, $"field '{key}' must be a mapping (key: value pairs)");
        return null;
    }

    /// <summary>Parses a duration such as <c>30s</c>, <c>5m</c>, <c>2h</c>, <c>90d</c> within <paramref name="bounds"/> (<see cref="Durations"/>).</summary>
    public TimeSpan? Duration(YamlMappingNode map, string key, DurationBounds bounds)
    {
        var text = String(map, key);
        if (text is null) return null;
        if (Durations.TryParse(text, bounds, out var value, out var problem)) return value;
        Error(Find(map, key)!, $"field '{key}' {problem}");
        return null;
    }
}
