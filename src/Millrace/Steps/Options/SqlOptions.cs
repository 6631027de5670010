using Millrace.Definitions.Options;

namespace Millrace.Steps;

/// <summary>The options of a <c>sql</c> step.</summary>
public sealed record SqlOptions
{
    [Option("sql", "DuckDB SQL over the inputs by name: one query (`SELECT …`, `WITH … SELECT …`, `FROM …`). A trailing `;` is ignored. `$NAME` / `${NAME}` become typed, quoted literals.", Required = true, Type = "a query")]
    public string Sql { get; init; } = "";
}
