using Millrace.Datasets;
using Millrace.Definitions;
using Millrace.Definitions.Options;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Parameters;
using YamlDotNet.RepresentationModel;

namespace Millrace.Steps;

/// <summary>
/// <c>sql</c>: one DuckDB SELECT over the step's inputs, each visible under its name (a dataset input
/// <c>customers@v3</c> is visible as <c>customers</c>). Parameters become typed literals, never SQL text.
/// </summary>
public sealed class SqlStep : IStep
{
    public required string Sql { get; init; }

    public static StepKind Kind { get; } = StepKind.Create<SqlOptions>(
        "sql",
        "Run a DuckDB SELECT over the step's inputs (step ids or datasets) into a table.",
        Parse);

    static IStep? Parse(StepDefinition definition, YamlNodeReader reader, SqlOptions options)
    {
        if (YamlNodeReader.Find(definition.Options, "sql") is not YamlScalarNode node) return null;
        if (string.IsNullOrWhiteSpace(options.Sql)) reader.Error(node, "'sql' is empty");
        return new SqlStep { Sql = options.Sql };
    }

    public async ValueTask<StepResult> ExecuteAsync(StepContext context, CancellationToken ct)
    {
        foreach (var input in context.Step.Inputs)
        {
            var (name, version) = DatasetReference.Parse(input);
            if (version is not null)
                await DuckDb.ExecuteAsync(context.Connection, $"CREATE OR REPLACE TEMP VIEW {SqlText.Identifier(name)} AS SELECT * FROM {context.InputTable(input)}", ct);
        }
        var sql = context.ExpandSql(Sql).Trim().TrimEnd(';');
        try
        {
            await DuckDb.ExecuteAsync(context.Connection, $"CREATE TABLE {context.OutputTable} AS {sql}", ct);
        }
        catch (DuckDB.NET.Data.DuckDBException e)
        {
            throw new StepFailedException($"SQL failed: {e.Message.Split('\n')[0].Trim()}", e);
        }
        return new StepResult(await DuckDb.CountAsync(context.Connection, context.OutputTable, ct));
    }
}
