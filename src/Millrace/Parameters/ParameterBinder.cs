using Millrace.Definitions;

namespace Millrace.Parameters;

/// <summary>A parameter problem found when binding a run's values: unknown, missing or of the wrong type.</summary>
public sealed class ParameterException(string message) : Exception(message);

/// <summary>Binds supplied <c>--var</c> values to declared parameters and adds the built-ins.</summary>
public static class ParameterBinder
{
    /// <summary>
    /// Returns every value a run sees: declared parameters (supplied value, else default), and the built-ins.
    /// Unknown names, missing required values and values of the wrong type are errors, all listed in one exception.
    /// </summary>
    public static IReadOnlyDictionary<string, ParameterValue> Bind(
        IReadOnlyDictionary<string, ParameterDefinition> declared,
        IReadOnlyList<KeyValuePair<string, string>> supplied,
        RunIdentity identity)
    {
        var problems = new List<string>();
        var values = new Dictionary<string, ParameterValue>(StringComparer.Ordinal);
        var runDate = identity.RunDate;
        foreach (var (name, text) in supplied)
        {
            // Supplied names and values come from callers who may only start runs: refuse what is not bounded, printable text.
            if (ParameterText.NameProblem(name) is { } badName) { problems.Add(badName); continue; }
            if (ParameterText.ValueProblem(text) is { } badValue) { problems.Add($"the value of parameter '{name}' {badValue}"); continue; }
            if (name == BuiltInParameters.RunDate)
            {
                if (ParameterValues.TryConvert(text, ParameterType.Date, out var d, out var p)) runDate = (DateOnly)d!.Value;
                else problems.Add($"parameter '{name}' {p}");
                continue;
            }
            if (BuiltInParameters.IsBuiltIn(name)) { problems.Add($"'{name}' is set by Millrace and cannot be given with --var"); continue; }
            if (!declared.TryGetValue(name, out var definition))
            {
                var known = declared.Count == 0 ? "none are declared" : "declared: " + string.Join(", ", declared.Keys.Order());
                problems.Add($"unknown parameter '{name}' ({known}; declare it under 'parameters:')");
                continue;
            }
            if (ParameterValues.TryConvert(text, definition.Type, out var value, out var problem)) values[name] = value!;
            else problems.Add($"parameter '{name}' {problem}");
        }
        foreach (var definition in declared.Values)
        {
            if (values.ContainsKey(definition.Name) || problems.Any(p => p.Contains($"'{definition.Name}'", StringComparison.Ordinal))) continue;
            if (definition.Default is null) { problems.Add($"parameter '{definition.Name}' is required: pass --var {definition.Name}=VALUE"); continue; }
            if (ParameterValues.TryConvert(definition.Default, definition.Type, out var value, out var problem)) values[definition.Name] = value!;
            else problems.Add($"parameter '{definition.Name}' default {problem}");
        }
        if (problems.Count > 0) throw new ParameterException(string.Join("; ", problems));

        values[BuiltInParameters.RunId] = new ParameterValue(ParameterType.String, identity.RunId, identity.RunId);
        values[BuiltInParameters.RunDate] = new ParameterValue(ParameterType.Date, runDate.ToString("yyyy-MM-dd"), runDate);
        var time = identity.StartedAt.UtcDateTime;
        values[BuiltInParameters.RunTime] = new ParameterValue(ParameterType.Timestamp, time.ToString("yyyy-MM-ddTHH:mm:ssZ"), time);
        values[BuiltInParameters.PipelineName] = new ParameterValue(ParameterType.String, identity.PipelineName, identity.PipelineName);
        values[BuiltInParameters.ProjectId] = new ParameterValue(ParameterType.String, identity.ProjectId, identity.ProjectId);
        return values;
    }
}

/// <summary>What the built-in parameters are made of.</summary>
public sealed record RunIdentity(string RunId, DateOnly RunDate, DateTimeOffset StartedAt, string PipelineName, string ProjectId);
