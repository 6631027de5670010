using DuckDB.NET.Data;
using Millrace.Definitions;
using Millrace.Lake;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>
/// What a step sees while it runs: its definition, the run's parameters, its inputs as DuckDB tables, its own DuckDB
/// connection (steps of independent branches run in parallel, each on its own connection to the run's database),
/// the lake, the store (read-only use) and the commit it adds effects to.
/// </summary>
public sealed class StepContext
{
    readonly RunContext _run;

    internal StepContext(RunContext run, string workflow, StepDefinition step, DuckDBConnection connection, CommitBuilder commit)
    {
        _run = run;
        Workflow = workflow;
        Step = step;
        Connection = connection;
        Commit = commit;
    }

    public string RunId => _run.RunId;
    public string Workflow { get; }
    public StepDefinition Step { get; }
    public ProjectDefinition Project => _run.Project;
    public IReadOnlyDictionary<string, ParameterValue> Parameters => _run.Parameters;
    public LakeRoot Lake => _run.Lake;
    public IMetadataStore Store => _run.Store;
    public DuckDBConnection Connection { get; }
    public CommitBuilder Commit { get; }
    /// <summary>The run's clock: steps take "now" from it, never from the system clock directly.</summary>
    public TimeProvider Clock => _run.Clock;
    /// <summary>The run's crash points (see <see cref="FaultInjector"/>).</summary>
    public FaultInjector Faults => _run.Faults;

    /// <summary>The quoted DuckDB table this step must leave its output in.</summary>
    public string OutputTable => SqlText.Identifier(Step.Id);

    /// <summary>The quoted DuckDB relation that holds input <paramref name="input"/> (a step id or a dataset reference).</summary>
    public string InputTable(string input) => SqlText.Identifier(input);

    /// <summary>The step's single input; a clear error when it has none or several.</summary>
    public string SingleInput => Step.Inputs.Count == 1
        ? InputTable(Step.Inputs[0])
        : throw new StepFailedException($"needs exactly one input, has {Step.Inputs.Count}");

    /// <summary>Expands parameter references in a path or message.</summary>
    public string Expand(string text) => Template.Expand(text, Parameters);

    /// <summary>Expands parameter references in a SQL query; DuckDB's parser decides where each one stands.</summary>
    public string ExpandSql(string sql) => Template.ExpandSql(Connection, sql, Parameters);

    /// <summary>Expands parameter references in a SQL expression (a rule, a filter); the result is parenthesised.</summary>
    public string ExpandSqlExpression(string expression) => SqlExpansion.ExpandExpression(Connection, expression, Parameters);

    /// <summary>Records an anomaly for this step at once and logs it.</summary>
    public async Task ReportAnomalyAsync(string kind, AnomalySeverity severity, string policy, string message, object? details, CancellationToken ct)
    {
        await Store.AddAnomalyAsync(new Anomaly
        {
            Id = Guid.NewGuid().ToString("n"),
            RunId = RunId,
            Workflow = Workflow,
            StepId = Step.Id,
            Kind = kind,
            Severity = severity,
            Policy = policy,
            Message = message,
            DetailsJson = details is null ? null : System.Text.Json.JsonSerializer.Serialize(details, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)),
            CreatedAt = Clock.GetUtcNow(),
        }, CancellationToken.None);
        await LogAsync($"{kind} ({policy}): {message}", ct, severity == AnomalySeverity.Error ? "error" : "warn");
    }

    /// <summary>Writes a line to the run's log (kept in the store) and to the observers.</summary>
    public Task LogAsync(string message, CancellationToken ct, string level = "info") => _run.LogAsync(level, Workflow, Step.Id, message, ct);
}
