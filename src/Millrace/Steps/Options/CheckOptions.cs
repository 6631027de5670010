using System.Text.Json.Nodes;
using Millrace.Definitions.Options;

namespace Millrace.Steps;

/// <summary>What a failed check rule does.</summary>
public enum CheckFailurePolicy { Warn, Quarantine, Fail }

/// <summary>Whether a volume rule compares a batch with every earlier batch or only those of the same weekday.</summary>
public enum VolumeSeason { None, Weekday }

/// <summary>The options of a <c>check</c> step.</summary>
public sealed record CheckOptions
{
    [Option("expect", "One `kind: value` pair per item. Row rules: `not_null: [cols]`, `unique: [cols]`, `range: { column, min, max }`, `allowed: { column, values }`, `regex: { column, pattern }`, `sql: <predicate true for good rows>`. Batch rules: `rows: { min, max }`, `freshness: { column, max_age }`, `volume: { threshold, min_change, min_history, seasonal, history }`.",
        Required = true, Type = "list of rules", Missing = "a check step needs 'expect:' with at least one rule", Schema = nameof(ExpectSchema))]
    public YamlDotNet.RepresentationModel.YamlNode? Expect { get; init; }

    [Option("on_failure", "`warn`: every row passes on, with a warning. `quarantine`: failing rows (the whole batch, for a failed batch rule) go to `quarantine/<name>/<run-id>/<step-id>.parquet` with a `_reason` column, and good rows pass on. `fail`: the step fails, naming every failed rule.")]
    public CheckFailurePolicy OnFailure { get; init; } = CheckFailurePolicy.Fail;

    [Option("examples", "Failing rows kept with each anomaly.", Minimum = 0)]
    public int Examples { get; init; } = 5;

    [Option("quarantine", "The folder under `quarantine/`.", Type = "name", Default = "the step id")]
    public string? Quarantine { get; init; }

    /// <summary>The rule bodies that are mappings, by rule kind.</summary>
    public static readonly IReadOnlyDictionary<string, Type> MappingRules = new Dictionary<string, Type>
    {
        ["range"] = typeof(RangeRuleOptions), ["allowed"] = typeof(AllowedRuleOptions), ["regex"] = typeof(RegexRuleOptions),
        ["rows"] = typeof(RowsRuleOptions), ["freshness"] = typeof(FreshnessRuleOptions), ["volume"] = typeof(VolumeRuleOptions),
    };

    /// <summary>The JSON Schema of <c>expect</c>: a list of one-key mappings, one per rule.</summary>
    public static JsonObject ExpectSchema()
    {
        var columns = JsonSchemaWriter.ValueOrList("A column or a list of columns.");
        var properties = new JsonObject
        {
            ["not_null"] = columns.DeepClone(),
            ["unique"] = columns.DeepClone(),
            ["sql"] = new JsonObject { ["type"] = "string", ["description"] = "A SQL predicate true for good rows." },
        };
        foreach (var (kind, type) in MappingRules) properties[kind] = JsonSchemaWriter.Object(OptionsShape.Of(type));
        return new JsonObject
        {
            ["type"] = "array",
            ["minItems"] = 1,
            ["items"] = new JsonObject
            {
                ["type"] = "object", ["minProperties"] = 1, ["maxProperties"] = 1, ["additionalProperties"] = false, ["properties"] = properties,
            },
        };
    }
}

/// <summary><c>range: { column, min, max }</c>: values outside [min, max] fail.</summary>
public sealed record RangeRuleOptions
{
    [Option("column", "The column to check.", Required = true)] public string Column { get; init; } = "";
    [Option("min", "The smallest value that passes.")] public double? Min { get; init; }
    [Option("max", "The largest value that passes.")] public double? Max { get; init; }
}

/// <summary><c>allowed: { column, values }</c>: a value not in the list fails.</summary>
public sealed record AllowedRuleOptions
{
    [Option("column", "The column to check.", Required = true)] public string Column { get; init; } = "";
    [Option("values", "The values that pass (compared as text).")] public IReadOnlyList<string> Values { get; init; } = [];
}

/// <summary><c>regex: { column, pattern }</c>: a value the pattern does not match fully fails.</summary>
public sealed record RegexRuleOptions
{
    [Option("column", "The column to check.", Required = true)] public string Column { get; init; } = "";
    [Option("pattern", "A regular expression the whole value must match.", Required = true)] public string Pattern { get; init; } = "";
}

/// <summary><c>rows: { min, max }</c>: the batch's row count must be within bounds.</summary>
public sealed record RowsRuleOptions
{
    [Option("min", "The fewest rows a batch may have.", Minimum = 0)] public int? Min { get; init; }
    [Option("max", "The most rows a batch may have.", Minimum = 0)] public int? Max { get; init; }
}

/// <summary><c>freshness: { column, max_age }</c>: the newest value must be recent enough.</summary>
public sealed record FreshnessRuleOptions
{
    [Option("column", "A DATE or TIMESTAMP column.", Required = true)] public string Column { get; init; } = "";
    [Option("max_age", "How old the newest value may be before the end of run.date: a duration such as `2d`, at most `3650d`.", Type = "duration", Pattern = OptionAttribute.DurationPattern, Missing = "a freshness rule needs max_age, e.g. 2d", Required = true)]
    public string MaxAge { get; init; } = "";
}

/// <summary><c>volume: { … }</c>: the batch's row count against the earlier batches' (robust z-score).</summary>
public sealed record VolumeRuleOptions
{
    [Option("threshold", "The robust z-score beyond which a batch's row count is flagged.")] public double Threshold { get; init; } = 3.5;
    [Option("min_change", "The smallest relative change that is flagged (0.2 = 20%).")] public double MinChange { get; init; } = 0.2;
    [Option("min_history", "Earlier batches needed before the rule judges.", Minimum = 1)] public int MinHistory { get; init; } = 7;
    [Option("seasonal", "`weekday` compares a batch only with earlier batches of the same weekday.")] public VolumeSeason Seasonal { get; init; } = VolumeSeason.None;
    [Option("history", "How many earlier batches are compared.", Minimum = 1)] public int History { get; init; } = 56;
}
