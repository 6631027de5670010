using DuckDB.NET.Data;
using Millrace.Parameters;
using YamlDotNet.RepresentationModel;

namespace Millrace.Definitions;

/// <summary>
/// At validate time, places a sample value of each parameter's type into every SQL option that references
/// parameters (a sql step's <c>sql</c>, a check step's <c>sql:</c> rules, a drift step's <c>where</c>), with DuckDB
/// deciding where each reference stands, so a reference DuckDB cannot place (a function name, a type, a statement
/// that is not a query) is a located definition error rather than a failed run.
/// </summary>
sealed class SqlReferenceCheck : IDisposable
{
    DuckDBConnection? _connection;

    DuckDBConnection Connection
    {
        get
        {
            if (_connection is null)
            {
                _connection = new DuckDBConnection("DataSource=:memory:");
                _connection.Open();
            }
            return _connection;
        }
    }

    public void Dispose() => _connection?.Dispose();

    /// <summary>Checks the SQL options of <paramref name="step"/> against the parameters declared for it.</summary>
    public void Check(StepDefinition step, IReadOnlyDictionary<string, ParameterType> declared, YamlNodeReader reader)
    {
        switch (step.Type)
        {
            case "sql":
                Try(YamlNodeReader.Find(step.Options, "sql"), declared, reader, expression: false);
                break;
            case "drift":
                Try(YamlNodeReader.Find(step.Options, "where"), declared, reader, expression: true);
                break;
            case "check" when YamlNodeReader.Find(step.Options, "expect") is YamlSequenceNode rules:
                foreach (var rule in rules.OfType<YamlMappingNode>())
                    Try(YamlNodeReader.Find(rule, "sql"), declared, reader, expression: true);
                break;
        }
    }

    void Try(YamlNode? node, IReadOnlyDictionary<string, ParameterType> declared, YamlNodeReader reader, bool expression)
    {
        if (node is not YamlScalarNode { Value: { Length: > 0 } sql } scalar) return;
        var references = Template.FindReferences(sql, declared.ContainsKey);
        // Undeclared references are reported by the reference check; ${env:…} is read only when the step runs.
        if (references.Count == 0 || references.Any(r => !declared.ContainsKey(r.Name) && !r.Name.StartsWith("env:", StringComparison.Ordinal))) return;
        var samples = references.Select(r => r.Name).Distinct(StringComparer.Ordinal)
            .ToDictionary(name => name, name => Sample(declared.GetValueOrDefault(name, ParameterType.String)), StringComparer.Ordinal);
        try
        {
            if (expression) SqlExpansion.ExpandExpression(Connection, sql, samples);
            else SqlExpansion.ExpandStatement(Connection, sql, samples);
        }
        catch (ParameterException e) { reader.Error(scalar, e.Message); }
    }

    internal static ParameterValue Sample(ParameterType type) => type switch
    {
        ParameterType.Int => new(type, "1", 1L),
        ParameterType.Double => new(type, "1", 1.0),
        ParameterType.Bool => new(type, "true", true),
        ParameterType.Date => new(type, "2000-01-01", new DateOnly(2000, 1, 1)),
        ParameterType.Timestamp => new(type, "2000-01-01T00:00:00Z", new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc)),
        _ => new(type, "sample", "sample"),
    };
}
