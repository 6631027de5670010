using System.Globalization;
using System.Text.Json;
using Millrace.Definitions;
using Millrace.Definitions.Options;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Parameters;
using Millrace.Quality;
using Millrace.Storage;
using YamlDotNet.RepresentationModel;

namespace Millrace.Steps;

/// <summary>
/// <c>check</c>: expectations on its input. Row rules (not_null, unique, range, allowed, regex, sql) find failing
/// rows; batch rules (rows, freshness, volume) judge the whole batch. Each failed rule is an anomaly with the rule,
/// the column, the count and example rows. The policy decides: <c>warn</c> passes every row on, <c>quarantine</c>
/// writes the failing rows (or the whole batch, for a batch rule) with their reason to <c>quarantine/</c> and passes
/// the good rows on, <c>fail</c> stops the run. The output is the rows that pass.
/// </summary>
public sealed class CheckStep : IStep
{
    /// <summary>One expectation: its name for reports, and either a SQL condition true for failing rows or a batch rule.</summary>
    public sealed record Rule(string Name, string Kind, string? Column, string? FailingRows, YamlMappingNode? Options);

    public required IReadOnlyList<Rule> Rules { get; init; }
    public required string Policy { get; init; }
    public int Examples { get; init; } = 5;
    public string? QuarantineName { get; init; }

    static readonly string[] RuleKinds = ["not_null", "unique", "range", "allowed", "regex", "sql", "rows", "freshness", "volume"];

    public static StepKind Kind { get; } = StepKind.Create<CheckOptions>(
        "check",
        "Check expectations on the input (not_null, unique, range, allowed, regex, sql, rows, freshness, volume); warn, quarantine or fail.",
        Parse);

    static IStep? Parse(StepDefinition definition, YamlNodeReader reader, CheckOptions options)
    {
        var map = definition.Options;
        if (definition.Inputs.Count != 1) reader.Error(map, $"a check step needs exactly one input, has {definition.Inputs.Count}");
        var rules = new List<Rule>();
        switch (options.Expect)
        {
            case null: break;
            case YamlSequenceNode list:
                foreach (var item in list)
                {
                    if (item is not YamlMappingNode { Children.Count: 1 } entry) { reader.Error(item, $"each rule is one 'kind: value' pair, e.g. not_null: [customer_id] (kinds: {string.Join(", ", RuleKinds)})"); continue; }
                    var (key, value) = entry.Children.Single();
                    rules.AddRange(ParseRule(reader, (key as YamlScalarNode)?.Value ?? "", value, entry));
                }
                break;
            case var other: reader.Error(other, "'expect' must be a list of rules"); break;
        }
        var quarantineName = options.Quarantine;
        // A folder under quarantine/, never a path: 'quarantine: ../raw' would put rejected rows in the landing zone.
        if (quarantineName is not null && (quarantineName.IndexOfAny(['/', '\\', '$', '%', '\0']) >= 0 || quarantineName.Trim() is "" or "." or ".."))
            reader.Error(YamlNodeReader.Find(map, "quarantine")!, $"quarantine '{quarantineName}' is a folder name under quarantine/ (no '/', '\\', '..', parameters or escapes)");
        return new CheckStep { Rules = rules, Policy = OptionsShape.ChoiceName(options.OnFailure), Examples = options.Examples, QuarantineName = quarantineName };
    }

    static IEnumerable<Rule> ParseRule(YamlNodeReader reader, string kind, YamlNode value, YamlMappingNode entry)
    {
        switch (kind)
        {
            case "not_null":
                foreach (var column in Columns(reader, value)) yield return new Rule($"not_null({column})", kind, column, $"{SqlText.Identifier(column)} IS NULL", null);
                break;
            case "unique":
                var columns = Columns(reader, value);
                if (columns.Count > 0)
                    yield return new Rule($"unique({string.Join(", ", columns)})", kind, string.Join(", ", columns),
                        $"count(*) OVER (PARTITION BY {string.Join(", ", columns.Select(SqlText.Identifier))}) > 1", null);
                break;
            case "range" when value is YamlMappingNode m:
            {
                var range = OptionBinder.Read<RangeRuleOptions>(m, reader, "a range rule");
                var (column, min, max) = (range.Column, range.Min, range.Max);
                if (min is null && max is null) reader.Error(m, "a range rule needs min, max or both");
                var parts = new List<string>();
                if (min is { } lo) parts.Add($"{SqlText.Identifier(column)} < {lo.ToString("R", CultureInfo.InvariantCulture)}");
                if (max is { } hi) parts.Add($"{SqlText.Identifier(column)} > {hi.ToString("R", CultureInfo.InvariantCulture)}");
                yield return new Rule($"range({column}, {min?.ToString(CultureInfo.InvariantCulture) ?? "-inf"}..{max?.ToString(CultureInfo.InvariantCulture) ?? "inf"})", kind, column, string.Join(" OR ", parts.DefaultIfEmpty("FALSE")), null);
                break;
            }
            case "allowed" when value is YamlMappingNode m:
            {
                var allowed = OptionBinder.Read<AllowedRuleOptions>(m, reader, "an allowed rule");
                var column = allowed.Column;
                if (allowed.Values.Count == 0) reader.Error(m, "an allowed rule needs 'values: [...]'");
                yield return new Rule($"allowed({column})", kind, column,
                    $"{SqlText.Identifier(column)} IS NOT NULL AND CAST({SqlText.Identifier(column)} AS VARCHAR) NOT IN ({string.Join(", ", allowed.Values.Select(SqlText.Quote))})", null);
                break;
            }
            case "regex" when value is YamlMappingNode m:
            {
                var regex = OptionBinder.Read<RegexRuleOptions>(m, reader, "a regex rule");
                var (column, pattern) = (regex.Column, regex.Pattern);
                try { _ = new System.Text.RegularExpressions.Regex(pattern); }
                catch (ArgumentException e) { reader.Error(YamlNodeReader.Find(m, "pattern")!, $"bad regex: {e.Message}"); }
                yield return new Rule($"regex({column})", kind, column,
                    $"{SqlText.Identifier(column)} IS NOT NULL AND NOT regexp_full_match(CAST({SqlText.Identifier(column)} AS VARCHAR), {SqlText.Quote(pattern)})", null);
                break;
            }
            case "sql" when value is YamlScalarNode { Value: { Length: > 0 } predicate }:
                yield return new Rule($"sql({predicate})", kind, null, $"NOT coalesce(({predicate}), FALSE)", null);
                break;
            case "rows" when value is YamlMappingNode m:
                // Checked here, not only when the step runs (where a bad value would silently read as "no bound").
                OptionBinder.Read<RowsRuleOptions>(m, reader, "a rows rule");
                yield return new Rule("rows", kind, null, null, m);
                break;
            case "freshness" when value is YamlMappingNode m:
                var freshness = OptionBinder.Read<FreshnessRuleOptions>(m, reader, "a freshness rule");
                if (YamlNodeReader.Find(m, "max_age") is not null) reader.Duration(m, "max_age", Durations.FreshnessMaxAge);
                yield return new Rule($"freshness({freshness.Column})", kind, freshness.Column, null, m);
                break;
            case "volume" when value is YamlMappingNode m:
                OptionBinder.Read<VolumeRuleOptions>(m, reader, "a volume rule");
                yield return new Rule("volume", kind, null, null, m);
                break;
            default:
                reader.Error(entry, RuleKinds.Contains(kind)
                    ? $"rule '{kind}' is written wrongly; see 'millrace steps check'"
                    : $"unknown rule '{kind}'{ProjectValidator.Suggest(kind, RuleKinds)} (rules: {string.Join(", ", RuleKinds)})");
                break;
        }
    }

    static List<string> Columns(YamlNodeReader reader, YamlNode value) => value switch
    {
        YamlScalarNode { Value: { Length: > 0 } one } => [one],
        YamlSequenceNode list => list.OfType<YamlScalarNode>().Select(s => s.Value ?? "").Where(s => s.Length > 0).ToList(),
        _ => Fail(reader, value),
    };

    static List<string> Fail(YamlNodeReader reader, YamlNode value)
    {
        reader.Error(value, "expected a column or a list of columns");
        return [];
    }

    sealed record Failure(Rule Rule, long Count, string Message, bool WholeBatch, IReadOnlyList<Dictionary<string, object?>> Examples, object? Extra = null);

    public async ValueTask<StepResult> ExecuteAsync(StepContext context, CancellationToken ct)
    {
        var connection = context.Connection;
        var input = context.SingleInput;
        var schema = DuckDb.Describe(connection, input);
        foreach (var rule in Rules.Where(r => r.Column is not null && r.Kind is not "unique"))
            if (!schema.Any(c => c.Name == rule.Column)) throw new StepFailedException($"rule {rule.Name}: column '{rule.Column}' is not in the input (columns: {string.Join(", ", schema.Select(c => c.Name))})");

        var rowRules = Rules.Where(r => r.FailingRows is not null).ToList();
        var table = SqlText.Identifier($"__check_{context.Step.Id}");
        var flags = string.Concat(rowRules.Select((r, i) => $", coalesce(({(r.Kind == "sql" ? context.ExpandSqlExpression(r.FailingRows!) : r.FailingRows)}), FALSE) AS __fail_{i}"));
        await DuckDb.ExecuteAsync(connection, $"CREATE TABLE {table} AS SELECT *{flags} FROM {input}", ct);
        var batchRows = await DuckDb.CountAsync(connection, table, ct);
        var columns = string.Join(", ", schema.Select(c => SqlText.Identifier(c.Name)));

        var failures = new List<Failure>();
        for (var i = 0; i < rowRules.Count; i++)
        {
            var count = await DuckDb.ScalarAsync<long>(connection, $"SELECT count(*) FROM {table} WHERE __fail_{i}", ct);
            if (count > 0)
                failures.Add(new Failure(rowRules[i], count, $"{rowRules[i].Name}: {count} of {batchRows} row(s) fail", false,
                    ExampleRows(context, $"SELECT {columns} FROM {table} WHERE __fail_{i} LIMIT {Examples}")));
        }
        foreach (var rule in Rules.Where(r => r.FailingRows is null))
            if (await CheckBatchAsync(context, rule, table, batchRows, columns, ct) is { } failure) failures.Add(failure);

        var severity = Policy == "fail" ? AnomalySeverity.Error : AnomalySeverity.Warning;
        foreach (var failure in failures)
            await context.ReportAnomalyAsync(failure.Rule.Kind == "volume" ? "volume" : "expectation", severity, Policy, failure.Message, new
            {
                rule = failure.Rule.Name, column = failure.Rule.Column, failing_rows = failure.Count, batch_rows = batchRows, examples = failure.Examples, extra = failure.Extra,
            }, ct);

        string? quarantined = null;
        long quarantinedRows = 0;
        var anyFail = rowRules.Count == 0 ? "FALSE" : string.Join(" OR ", rowRules.Select((_, i) => $"__fail_{i}"));
        if (failures.Count > 0 && Policy == "fail")
            throw new StepFailedException($"{failures.Count} expectation(s) failed: {string.Join("; ", failures.Select(f => f.Message))}");
        if (failures.Count > 0 && Policy == "quarantine")
        {
            var wholeBatch = failures.Where(f => f.WholeBatch).Select(f => f.Rule.Name).ToList();
            var reasons = rowRules.Count == 0 ? "''" : $"concat_ws('; ', {string.Join(", ", rowRules.Select((r, i) => $"CASE WHEN __fail_{i} THEN {SqlText.Quote(r.Name)} END"))})";
            var selection = wholeBatch.Count > 0
                ? $"SELECT {columns}, {SqlText.Quote(string.Join("; ", wholeBatch))} AS _reason FROM {table}"
                : $"SELECT {columns}, {reasons} AS _reason FROM {table} WHERE {anyFail}";
            var rows = SqlText.Identifier($"__quarantine_{context.Step.Id}");
            await DuckDb.ExecuteAsync(connection, $"CREATE TABLE {rows} AS {selection}", ct);
            quarantinedRows = await DuckDb.CountAsync(connection, rows, ct);
            if (quarantinedRows > 0) quarantined = await Quarantine.WriteAsync(context, QuarantineName ?? context.Step.Id, rows, ct);
            await DuckDb.ExecuteAsync(connection, $"DROP TABLE {rows}", ct);
            anyFail = wholeBatch.Count > 0 ? "TRUE" : anyFail;
            await context.LogAsync($"quarantined {quarantinedRows} row(s) to {quarantined}", ct, "warn");
        }
        var keep = Policy == "quarantine" && failures.Count > 0 ? $"WHERE NOT ({anyFail})" : "";
        await DuckDb.ExecuteAsync(connection, $"CREATE TABLE {context.OutputTable} AS SELECT {columns} FROM {table} {keep}; DROP TABLE {table};", ct);
        var passed = await DuckDb.CountAsync(connection, context.OutputTable, ct);
        return new StepResult(passed, new Dictionary<string, object?>
        {
            ["batch_rows"] = batchRows, ["passed_rows"] = passed, ["quarantined_rows"] = quarantinedRows, ["quarantine"] = quarantined,
            ["failed_rules"] = failures.Select(f => f.Message).ToList(), ["rules"] = Rules.Count,
        });
    }

    async Task<Failure?> CheckBatchAsync(StepContext context, Rule rule, string table, long batchRows, string columns, CancellationToken ct)
    {
        var reader = new YamlNodeReader(context.Step.Location.File, [], context.Step.Id);
        var options = rule.Options!;
        switch (rule.Kind)
        {
            case "rows":
            {
                var min = reader.Int(options, "min");
                var max = reader.Int(options, "max");
                if ((min is { } lo && batchRows < lo) || (max is { } hi && batchRows > hi))
                    return new Failure(rule, batchRows, $"rows: the batch has {batchRows} row(s), expected {(min is null ? "" : $"at least {min}")}{(min is not null && max is not null ? " and " : "")}{(max is null ? "" : $"at most {max}")}", true, []);
                return null;
            }
            case "freshness":
            {
                var column = SqlText.Identifier(rule.Column!);
                var maxAge = reader.Duration(options, "max_age", Durations.FreshnessMaxAge)!.Value;
                // Relative to the end of run.date, so a backfill judges each day by its own date.
                var asOf = ((DateOnly)context.Parameters[BuiltInParameters.RunDate].Value).AddDays(1).ToDateTime(TimeOnly.MinValue);
                var newest = await Task.Run(() =>
                {
                    using var command = context.Connection.CreateCommand();
                    command.CommandText = $"SELECT CAST(max({column}) AS TIMESTAMP) FROM {table}";
                    return command.ExecuteScalar() is DateTime t ? t : (DateTime?)null;
                }, ct);
                if (newest is null || asOf - newest.Value > maxAge)
                    return new Failure(rule, batchRows, $"freshness({rule.Column}): newest value {(newest is null ? "none" : newest.Value.ToString("u", CultureInfo.InvariantCulture))} is older than {options.Children[new YamlScalarNode("max_age")]} before the end of run.date {asOf.AddDays(-1):yyyy-MM-dd} ({asOf:yyyy-MM-dd HH:mm})", true, []);
                return null;
            }
            default:
                return await CheckVolumeAsync(context, rule, reader, options, batchRows, ct);
        }
    }

    /// <summary>The batch's row count against earlier batches of this step: robust z-score on median and MAD.</summary>
    async Task<Failure?> CheckVolumeAsync(StepContext context, Rule rule, YamlNodeReader reader, YamlMappingNode options, long batchRows, CancellationToken ct)
    {
        var threshold = reader.Double(options, "threshold") ?? 3.5;
        var minChange = reader.Double(options, "min_change") ?? 0.2;
        var minHistory = reader.Int(options, "min_history") ?? 7;
        var seasonal = reader.String(options, "seasonal") == "weekday";
        var runDate = (DateOnly)context.Parameters[BuiltInParameters.RunDate].Value;
        var history = (await context.Store.GetStepHistoryAsync(context.Workflow, context.Step.Id, context.RunId, reader.Int(options, "history") ?? 56, ct))
            .Where(h => !seasonal || h.RunDate.DayOfWeek == runDate.DayOfWeek)
            .Select(h => BatchRows(h.DetailsJson)).OfType<long>().Select(v => (double)v).ToList();
        if (history.Count < minHistory) return null;
        var median = RobustStatistics.Median(history);
        var mad = RobustStatistics.Mad(history);
        var z = RobustStatistics.Z(batchRows, median, mad);
        var change = median > 0 ? Math.Abs(batchRows - median) / median : double.PositiveInfinity;
        if (Math.Abs(z) <= threshold || change <= minChange) return null;
        return new Failure(rule, batchRows, string.Create(CultureInfo.InvariantCulture,
            $"volume: {batchRows} row(s) against a median of {median:0} over {history.Count} earlier batch(es){(seasonal ? " on the same weekday" : "")} (robust z {z:0.0}, change {change:P0})"),
            true, [], new { median, mad, z = Finite(z), change = Finite(change), history = history.Count });
    }

    // JSON has no infinity: a z-score against a history that never varied (MAD 0), or a change from a median of 0, is null.
    static double? Finite(double value) => double.IsFinite(value) ? value : null;

    static long? BatchRows(string? details)
    {
        if (details is null) return null;
        using var document = JsonDocument.Parse(details);
        return document.RootElement.TryGetProperty("batch_rows", out var rows) && rows.TryGetInt64(out var value) ? value : null;
    }

    static List<Dictionary<string, object?>> ExampleRows(StepContext context, string sql)
    {
        using var command = context.Connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<Dictionary<string, object?>>();
        while (reader.Read())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++)
            {
                var v = reader.IsDBNull(i) ? null : reader.GetValue(i);
                // JSON has no NaN or infinity, and bad data is what a check shows: those are written as text.
                row[reader.GetName(i)] = v is DateOnly or DateTime or decimal or System.Numerics.BigInteger || (v is double d && !double.IsFinite(d)) || (v is float f && !float.IsFinite(f))
                    ? Convert.ToString(v, CultureInfo.InvariantCulture) : v;
            }
            rows.Add(row);
        }
        return rows;
    }
}
