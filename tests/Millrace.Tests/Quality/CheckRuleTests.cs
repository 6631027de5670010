using System.Text.Json;
using Millrace.Storage;
using Millrace.Tests.TestSupport;
using static Millrace.Tests.Quality.QualityProject;

namespace Millrace.Tests.Quality;

/// <summary>
/// Each row rule of the check step, on a small batch where the failing rows are known: under quarantine, exactly
/// those rows are quarantined and the others pass; the anomaly names the rule, the column, the count and example
/// rows; the same rule on clean data records nothing.
/// </summary>
public sealed class CheckRuleTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    // id 2 lacks a name; id 4 repeats id 3's email; amounts -5 (id 3) and 150 (id 5) are out of 0..100;
    // region 'mars' (id 5) is not allowed; email 'not-an-email' (id 6) is malformed; id 7 has only its id.
    const string Customers = """
        id,name,region,amount,email
        1,Ann,north,10,ann@example.com
        2,,south,0,bob@example.com
        3,Cid,north,-5,cid@example.com
        4,Dee,east,100,cid@example.com
        5,Eve,mars,150,eve@example.com
        6,Fay,west,60,not-an-email
        7,,,,

        """;

    const string Clean = """
        id,name,region,amount,email
        1,Ann,north,10,ann@example.com
        2,Bob,south,0,bob@example.com
        3,Cid,east,100,cid@example.com

        """;

    async Task<(Anomaly Anomaly, JsonElement Details)> FailsAsync(string expect, long[] failingIds, string column, string rule)
    {
        _project.CheckWorkflow(Customers, expect, "quarantine");
        var run = await _project.RunOkAsync();

        var anomaly = await _project.SingleAnomalyAsync(run.Id);
        var details = DetailsOf(anomaly);
        Assert.Equal(("expectation", AnomalySeverity.Warning, "quarantine", "checked"), (anomaly.Kind, anomaly.Severity, anomaly.Policy, anomaly.StepId));
        Assert.Equal(rule, details.GetProperty("rule").GetString());
        Assert.Equal(column, details.GetProperty("column").GetString());
        Assert.Equal(failingIds.Length, details.GetProperty("failing_rows").GetInt64());
        Assert.Equal(7, details.GetProperty("batch_rows").GetInt64());
        Assert.Equal(failingIds.Order(), details.GetProperty("examples").EnumerateArray().Select(e => e.GetProperty("id").GetInt64()).Order());
        Assert.Contains($"{rule}: {failingIds.Length} of 7 row(s) fail", anomaly.Message);

        var quarantined = _project.QueryLake("SELECT id, _reason FROM {file} ORDER BY id", $"quarantine/checked/{run.Id}/checked.parquet");
        Assert.Equal(failingIds, quarantined.Select(r => Long(r[0])));
        Assert.All(quarantined, r => Assert.Equal(rule, r[1]));
        Assert.Equal(Enumerable.Range(1, 7).Select(i => (long)i).Except(failingIds), _project.Passed().Select(r => Long(r[0])));
        return (anomaly, details);
    }

    async Task PassesAsync(string expect)
    {
        _project.CheckWorkflow(Clean, expect, "fail");
        var run = await _project.RunOkAsync();
        Assert.Empty(await _project.AnomaliesOfAsync(run.Id));
        Assert.Equal([1L, 2L, 3L], _project.Passed().Select(r => Long(r[0])));
        Assert.Empty(_project.QuarantineFiles());
        var details = await _project.StepDetailsAsync(run.Id, "checked");
        Assert.Equal((3, 3, 0), (details.GetProperty("batch_rows").GetInt64(), details.GetProperty("passed_rows").GetInt64(), details.GetProperty("quarantined_rows").GetInt64()));
    }

    [Fact]
    public async Task Not_null_fails_the_rows_where_the_column_is_null()
    {
        var (anomaly, details) = await FailsAsync("not_null: [name]", [2, 7], "name", "not_null(name)");
        // An example row carries the input's columns (not the check's helper flags).
        var example = details.GetProperty("examples")[0];
        Assert.Equal(["amount", "email", "id", "name", "region"], example.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(JsonValueKind.Null, example.GetProperty("name").ValueKind);
    }

    [Fact]
    public async Task Not_null_passes_when_every_value_is_present() => await PassesAsync("not_null: [id, name, email]");

    [Fact]
    public async Task Not_null_over_several_columns_is_one_rule_per_column()
    {
        _project.CheckWorkflow(Customers, "not_null: [name, region, email]", "warn");
        var run = await _project.RunOkAsync();

        var anomalies = await _project.AnomaliesOfAsync(run.Id);
        Assert.Equal(
            [("name", 2L), ("region", 1L), ("email", 1L)],
            anomalies.Select(a => DetailsOf(a)).Select(d => (d.GetProperty("column").GetString(), d.GetProperty("failing_rows").GetInt64()))
                .OrderBy(p => p.Item1 == "name" ? 0 : p.Item1 == "region" ? 1 : 2).ToList());
    }

    [Fact]
    public async Task Unique_fails_every_row_of_a_repeated_value() =>
        await FailsAsync("unique: [email]", [3, 4], "email", "unique(email)");

    [Fact]
    public async Task Unique_over_several_columns_fails_only_repeated_combinations()
    {
        _project.CheckWorkflow("id,day,sku\n1,d1,a\n2,d1,b\n3,d2,a\n4,d1,a\n", "unique: [day, sku]", "quarantine");
        var run = await _project.RunOkAsync();

        var details = DetailsOf(await _project.SingleAnomalyAsync(run.Id));
        Assert.Equal(("unique(day, sku)", "day, sku", 2L), (details.GetProperty("rule").GetString(), details.GetProperty("column").GetString(), details.GetProperty("failing_rows").GetInt64()));
        Assert.Equal([2L, 3L], _project.Passed().Select(r => Long(r[0])));
    }

    [Fact]
    public async Task Unique_counts_two_nulls_as_a_repeat()
    {
        _project.CheckWorkflow("id,code\n1,a\n2,\n3,\n4,b\n", "unique: [code]", "quarantine");
        var run = await _project.RunOkAsync();

        Assert.Equal(2, DetailsOf(await _project.SingleAnomalyAsync(run.Id)).GetProperty("failing_rows").GetInt64());
        Assert.Equal([1L, 4L], _project.Passed().Select(r => Long(r[0])));
    }

    [Fact]
    public async Task Unique_passes_when_no_value_repeats() => await PassesAsync("unique: [id]");

    [Fact]
    public async Task Range_fails_values_below_min_or_above_max_but_not_the_bounds_or_null() =>
        await FailsAsync("range: { column: amount, min: 0, max: 100 }", [3, 5], "amount", "range(amount, 0..100)");

    [Fact]
    public async Task Range_with_only_a_max_is_open_below()
    {
        _project.CheckWorkflow(Customers, "range: { column: amount, max: 99 }", "quarantine");
        var run = await _project.RunOkAsync();

        var details = DetailsOf(await _project.SingleAnomalyAsync(run.Id));
        Assert.Equal(("range(amount, -inf..99)", 2L), (details.GetProperty("rule").GetString(), details.GetProperty("failing_rows").GetInt64()));
        Assert.Equal([4L, 5L], _project.QueryLake("SELECT id FROM {file} ORDER BY id", $"quarantine/checked/{run.Id}/checked.parquet").Select(r => Long(r[0])));
    }

    [Fact]
    public async Task Range_passes_when_every_value_is_within_the_bounds() => await PassesAsync("range: { column: amount, min: 0, max: 100 }");

    [Fact]
    public async Task Allowed_fails_values_outside_the_list_but_not_null() =>
        await FailsAsync("allowed: { column: region, values: [north, south, east, west] }", [5], "region", "allowed(region)");

    [Fact]
    public async Task Allowed_compares_numbers_by_their_text()
    {
        _project.CheckWorkflow("id,level\n1,1\n2,2\n3,4\n", "allowed: { column: level, values: [1, 2, 3] }", "quarantine");
        var run = await _project.RunOkAsync();

        Assert.Equal(1, DetailsOf(await _project.SingleAnomalyAsync(run.Id)).GetProperty("failing_rows").GetInt64());
        Assert.Equal([1L, 2L], _project.Passed().Select(r => Long(r[0])));
    }

    [Fact]
    public async Task Allowed_passes_when_every_value_is_listed() => await PassesAsync("allowed: { column: region, values: [north, south, east] }");

    [Fact]
    public async Task Regex_fails_values_that_do_not_match_the_whole_pattern() =>
        await FailsAsync("regex: { column: email, pattern: '[a-z]+@[a-z]+\\.com' }", [6], "email", "regex(email)");

    [Fact]
    public async Task Regex_must_match_the_whole_value_not_a_part()
    {
        // 'north' contains 'or' but is not 'or': a partial match is a failure.
        _project.CheckWorkflow(Clean, "regex: { column: region, pattern: 'or|south' }", "quarantine");
        var run = await _project.RunOkAsync();

        Assert.Equal(2, DetailsOf(await _project.SingleAnomalyAsync(run.Id)).GetProperty("failing_rows").GetInt64());
        Assert.Equal([2L], _project.Passed().Select(r => Long(r[0])));
    }

    [Fact]
    public async Task Regex_passes_when_every_value_matches() => await PassesAsync("regex: { column: email, pattern: '[a-z]+@example\\.com' }");

    [Fact]
    public async Task Sql_fails_rows_where_the_predicate_is_false_or_null()
    {
        var (anomaly, details) = await FailsAsync("sql: amount BETWEEN 0 AND 100 OR name = 'Eve'", [3, 7], null!, "sql(amount BETWEEN 0 AND 100 OR name = 'Eve')");
        Assert.Equal(JsonValueKind.Null, details.GetProperty("column").ValueKind);
    }

    [Fact]
    public async Task Sql_passes_when_the_predicate_holds_for_every_row() => await PassesAsync("sql: amount >= 0 AND length(name) = 3");

    [Fact]
    public async Task Sql_predicate_parameters_are_typed_literals()
    {
        _project.CheckWorkflow(Customers, "sql: region = $region", "quarantine");
        _project.Workflow("ingest", File.ReadAllText(Path.Combine(_project.Directory, "workflows/ingest.yaml")).Replace("name: ingest\n", "name: ingest\nparameters: { region: { default: north } }\n", StringComparison.Ordinal));
        var run = await _project.RunOkAsync("ingest", ("region", "north"));

        Assert.Equal([1L, 3L], _project.Passed().Select(r => Long(r[0])));
        Assert.Equal(5, DetailsOf(await _project.SingleAnomalyAsync(run.Id)).GetProperty("failing_rows").GetInt64());
    }

    [Fact]
    public async Task Examples_keep_at_most_the_configured_number_of_rows_but_the_count_is_exact()
    {
        var csv = "id,name\n" + string.Concat(Enumerable.Range(1, 40).Select(i => $"{i},{(i % 4 == 0 ? "" : "x")}\n"));
        _project.CheckWorkflow(csv, "not_null: [name]", "warn", extra: "examples: 3");
        var run = await _project.RunOkAsync();

        var details = DetailsOf(await _project.SingleAnomalyAsync(run.Id));
        Assert.Equal(10, details.GetProperty("failing_rows").GetInt64());
        Assert.Equal(3, details.GetProperty("examples").GetArrayLength());
        Assert.All(details.GetProperty("examples").EnumerateArray(), e => Assert.Equal(0, e.GetProperty("id").GetInt64() % 4));
    }

    [Fact]
    public async Task Examples_default_to_five()
    {
        var csv = "id,name\n" + string.Concat(Enumerable.Range(1, 20).Select(i => $"{i},\n"));
        _project.CheckWorkflow(csv, "not_null: [name]", "warn", schema: "{ id: BIGINT, name: VARCHAR }");
        var run = await _project.RunOkAsync();

        var details = DetailsOf(await _project.SingleAnomalyAsync(run.Id));
        Assert.Equal((20, 5), (details.GetProperty("failing_rows").GetInt64(), details.GetProperty("examples").GetArrayLength()));
    }

    [Fact]
    public async Task A_row_failing_several_rules_is_quarantined_once_with_every_reason()
    {
        _project.CheckWorkflow(Customers, "not_null: [region]\nrange: { column: amount, min: 0 }\nsql: id <> 7", "quarantine");
        var run = await _project.RunOkAsync();

        Assert.Equal(3, (await _project.AnomaliesOfAsync(run.Id)).Count(a => a.Kind == "expectation"));
        var quarantined = _project.QueryLake("SELECT id, _reason FROM {file} ORDER BY id", $"quarantine/checked/{run.Id}/checked.parquet");
        Assert.Equal([(3L, "range(amount, 0..inf)"), (7L, "not_null(region); sql(id <> 7)")], quarantined.Select(r => (Long(r[0]), (string)r[1]!)));
    }

    [Fact]
    public async Task Example_rows_with_infinite_or_nan_values_are_recorded()
    {
        // The data a check catches is often broken in exactly this way; its examples must not break the check.
        _project.CheckWorkflow("id,amount,ratio\n1,10,0.5\n2,inf,nan\n3,-inf,0.1\n", "range: { column: amount, min: 0, max: 100 }", "quarantine", schema: "{ id: BIGINT, amount: DOUBLE, ratio: REAL }");

        var run = await _project.RunOkAsync();

        var details = DetailsOf(await _project.SingleAnomalyAsync(run.Id));
        Assert.Equal(2, details.GetProperty("failing_rows").GetInt64());
        var examples = details.GetProperty("examples").EnumerateArray().ToDictionary(e => e.GetProperty("id").GetInt64());
        Assert.Equal(("Infinity", "NaN"), (examples[2].GetProperty("amount").GetString(), examples[2].GetProperty("ratio").GetString()));
        Assert.Equal("-Infinity", examples[3].GetProperty("amount").GetString());
        Assert.Equal([1L], _project.Passed().Select(r => Long(r[0])));
    }

    [Fact]
    public async Task A_rule_on_a_column_the_input_lacks_fails_the_step_naming_the_columns()
    {
        _project.CheckWorkflow(Clean, "not_null: [nmae]", "warn");
        var run = await _project.RunAsync("ingest");

        Assert.Equal(RunStatus.Failed, run.Status);
        var step = await _project.StepRunAsync(run.Id, "checked");
        Assert.Contains("rule not_null(nmae): column 'nmae' is not in the input (columns: id, name, region, amount, email)", step.Error);
    }
}
