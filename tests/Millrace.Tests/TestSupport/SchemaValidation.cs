using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Millrace.Definitions.Schema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Millrace.Tests.TestSupport;

/// <summary>
/// Validates definition YAML against the generated JSON Schema with an independent validator (JsonSchema.Net),
/// reading YAML as an editor's YAML extension does (the YAML 1.2 core schema: plain <c>true</c>, <c>12</c>, <c>~</c> are typed).
/// </summary>
public static partial class SchemaValidation
{
    static readonly ConcurrentDictionary<string, JsonSchema> Schemas = new();

    /// <summary>The schema of a kind of file (<c>project</c>, <c>workflow</c>, <c>pipeline</c>), parsed once.</summary>
    public static JsonSchema For(string kind) => Schemas.GetOrAdd(kind, k => JsonSchema.FromText(DefinitionSchemas.ToJson(k)));

    /// <summary>The kind of a project-relative definition file, or null for a file that is not one.</summary>
    public static string? KindOf(string relative) => relative.Replace('\\', '/') switch
    {
        "millrace.yaml" => "project",
        var p when p.StartsWith("workflows/", StringComparison.Ordinal) && IsYaml(p) => "workflow",
        var p when p.StartsWith("pipelines/", StringComparison.Ordinal) && IsYaml(p) => "pipeline",
        _ => null,
    };

    static bool IsYaml(string path) => path.EndsWith(".yaml", StringComparison.Ordinal) || path.EndsWith(".yml", StringComparison.Ordinal);

    /// <summary>What the schema says against <paramref name="yaml"/>: one line per failed keyword, with the instance location; empty when it is accepted.</summary>
    public static IReadOnlyList<string> Problems(string kind, string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var instance = stream.Documents.Count == 0 ? null : ToJson(stream.Documents[0].RootNode);
        var result = For(kind).Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (result.IsValid) return [];
        // An 'if' that fails is how a step's type selects its options, not a problem: its errors are left out.
        return result.Details.Where(d => d.Errors is { Count: > 0 } && !d.EvaluationPath.ToString().Contains("/if", StringComparison.Ordinal))
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}")).Distinct().ToList();
    }

    /// <summary>Fails, naming each file and problem, unless the schema accepts every definition file of the project.</summary>
    public static void AssertAccepted(string projectDirectory)
    {
        var problems = new List<string>();
        foreach (var file in Directory.EnumerateFiles(projectDirectory, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(projectDirectory, file).Replace('\\', '/');
            if (KindOf(relative) is not { } kind) continue;
            problems.AddRange(Problems(kind, File.ReadAllText(file)).Select(p => $"{relative} {p}"));
        }
        Assert.True(problems.Count == 0, "the JSON Schema rejects definitions the loader accepts:" + Environment.NewLine + string.Join(Environment.NewLine, problems));
    }

    /// <summary>A YAML node as JSON, typing plain scalars by the YAML 1.2 core schema.</summary>
    public static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value ?? "", ToJson(c.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(ToJson)]),
        YamlScalarNode scalar => Scalar(scalar),
        _ => null,
    };

    static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is not ScalarStyle.Plain) return JsonValue.Create(text);
        if (text is "" or "~" or "null" or "Null" or "NULL") return null;
        if (text is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (text is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (Integer().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)) return JsonValue.Create(integer);
        if (Float().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)) return JsonValue.Create(number);
        return JsonValue.Create(text);
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();
}
