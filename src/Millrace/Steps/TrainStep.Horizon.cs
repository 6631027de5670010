using System.Globalization;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Parameters;
using Millrace.Storage;
using YamlDotNet.RepresentationModel;

namespace Millrace.Steps;

/// <summary>
/// The label horizon of the <c>train</c> step: a row's label is known only <c>horizon</c> after its time, so rows
/// later than run.date - horizon are left out (a snapshot whose outcome cannot be known yet is never a negative), and
/// a run.date far past the newest row fails instead of training on data that ends long before it.
/// </summary>
public sealed partial class TrainStep
{
    /// <summary>The longest horizon.</summary>
    static readonly DurationBounds HorizonBounds = new(TimeSpan.FromDays(3650));

    /// <summary>What the horizon left out of one run: the rows at or after <c>Cutoff</c> (<c>Filter</c> keeps those before it).</summary>
    sealed record HorizonCut(string Filter, DateTime Cutoff, long Dropped, string Oldest, string Newest, TimeSpan Horizon, string Column)
    {
        public Dictionary<string, object?> Details() => new()
        {
            ["horizon"] = Durations.Format(Horizon), ["column"] = Column, ["cutoff"] = Timestamp(Cutoff), ["dropped_rows"] = Dropped, ["oldest"] = Oldest, ["newest"] = Newest,
        };
    }

    static (TimeSpan? Horizon, string? Column) ParseHorizon(YamlMappingNode map, YamlNodeReader reader, TrainOptions o, ValidationOptions validation)
    {
        if (YamlNodeReader.Find(map, "horizon") is not { } node)
        {
            if (YamlNodeReader.Find(map, "horizon_column") is { } column) reader.Error(column, "horizon_column goes with horizon (how long after it a label becomes known)");
            return (null, null);
        }
        var horizon = reader.Duration(map, "horizon", HorizonBounds);
        var columnName = o.HorizonColumn is { Length: > 0 } c ? c : validation.Method == ValidationMethod.Time && validation.Column is { Length: > 0 } v ? v : null;
        if (columnName is null) reader.Error(node, "horizon needs the time a row's horizon counts from: set horizon_column, or use validation: { method: time, column: ... }");
        return (horizon, columnName);
    }

    /// <summary>
    /// The rows of <paramref name="input"/> whose label can be known by the end of run.date, or null without a
    /// horizon. Fails when the newest labelled row is more than the horizon older than the cutoff, naming the dates present.
    /// </summary>
    async Task<HorizonCut?> HorizonAsync(StepContext context, string input, IReadOnlyList<ColumnSchema> schema, CancellationToken ct)
    {
        if (Horizon is not { } horizon || HorizonColumn is not { } columnName) return null;
        var type = schema.FirstOrDefault(c => c.Name == columnName)?.Type
            ?? throw new StepFailedException($"horizon column '{columnName}' is not in the input (columns: {string.Join(", ", schema.Select(c => c.Name))})");
        if (!type.StartsWith("DATE", StringComparison.Ordinal) && !type.StartsWith("TIMESTAMP", StringComparison.Ordinal))
            throw new StepFailedException($"horizon column '{columnName}' must be a DATE or TIMESTAMP, is {type}");
        var runDate = (DateOnly)context.Parameters[BuiltInParameters.RunDate].Value;
        // Known by the end of run.date: a row's time plus the horizon is before the next day begins.
        var cutoff = runDate.AddDays(1).ToDateTime(TimeOnly.MinValue) - horizon;
        var column = $"CAST({SqlText.Identifier(columnName)} AS TIMESTAMP)";
        var literal = $"TIMESTAMP '{Timestamp(cutoff)}'";
        var rows = await DuckDb.RowsAsync(context.Connection, $"""
            SELECT CAST(min({column}) AS VARCHAR), CAST(max({column}) AS VARCHAR), count(*) FILTER (WHERE {column} >= {literal} OR {column} IS NULL), max({column}) < {literal} - INTERVAL '{(long)horizon.TotalSeconds} seconds'
            FROM {input} WHERE {SqlText.Identifier(Label)} IS NOT NULL
            """, ct);
        var (oldest, newest) = (rows[0][0] as string, rows[0][1] as string);
        var dropped = Convert.ToInt64(rows[0][2], CultureInfo.InvariantCulture);
        var span = Durations.Format(horizon);
        if (newest is null) throw new StepFailedException($"no labelled row has a {columnName}: the horizon ({span}) cannot place any");
        if (rows[0][3] is true)
            throw new StepFailedException($"run.date {runDate:yyyy-MM-dd} is past the data: the labelled rows' {columnName} runs from {oldest} to {newest}, and the newest is more than the horizon ({span}) " +
                $"before run.date - {span} ({Timestamp(cutoff)}); run with a run.date the data covers (at most {DateOnly.FromDateTime(DateTime.Parse(newest, CultureInfo.InvariantCulture) + horizon + horizon - TimeSpan.FromDays(1)):yyyy-MM-dd})");
        if (dropped > 0)
            await context.LogAsync($"left out {dropped} row(s) whose {columnName} is {Timestamp(cutoff)} or later (or NULL): their label is not known by run.date {runDate:yyyy-MM-dd} with the horizon {span}", ct);
        return new HorizonCut($"{column} < {literal}", cutoff, dropped, oldest!, newest, horizon, columnName);
    }

    static string Timestamp(DateTime value) => value.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
