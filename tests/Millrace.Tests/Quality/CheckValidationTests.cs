using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Quality;

/// <summary>
/// A check step is validated with the project: unknown rule names (with a suggestion), rules written wrongly, bad
/// options and policies are definition errors that name the file, line and column — before anything runs.
/// </summary>
public sealed class CheckValidationTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    /// <summary>Writes a workflow whose check step (line 6 onwards) has <paramref name="checkFields"/>; returns the errors.</summary>
    IReadOnlyList<Millrace.Definitions.DefinitionError> Check(string checkFields)
    {
        _project.Workflow("ingest", $"""
            name: ingest
            steps:
              - id: rows
                type: read
                path: raw/data.csv
              - id: checked
                type: check
                input: rows
            {LearningProject.Indent(checkFields, "    ")}
            """);
        return _project.Check();
    }

    static void At(Millrace.Definitions.DefinitionError error, int line, int column)
    {
        Assert.Equal(("workflows/ingest.yaml", line, column), (error.Location.File, error.Location.Line, error.Location.Column));
        Assert.Equal("checked", error.StepId);
    }

    [Fact]
    public void A_valid_check_with_every_rule_has_no_errors()
    {
        DefinitionAssert.None(Check("""
            expect:
              - not_null: [id, name]
              - not_null: id
              - unique: [id]
              - range: { column: amount, min: 0, max: 100 }
              - allowed: { column: region, values: [north, south] }
              - regex: { column: email, pattern: '^[^@]+@[^@]+$' }
              - sql: amount >= 0
              - rows: { min: 1, max: 1000000 }
              - freshness: { column: updated_at, max_age: 36h }
              - volume: { threshold: 3.5, min_change: 0.2, min_history: 7, seasonal: weekday, history: 28 }
            on_failure: quarantine
            examples: 3
            quarantine: orders
            """));
    }

    [Fact]
    public void An_unknown_rule_is_an_error_at_its_line_with_a_suggestion()
    {
        var error = DefinitionAssert.Single(Check("""
            expect:
              - not_null: [id]
              - not_nul: [name]
            """), "unknown rule 'not_nul'");

        At(error, 11, 9);
        Assert.Contains("did you mean 'not_null'?", error.Message);
        Assert.Contains("(rules: not_null, unique, range, allowed, regex, sql, rows, freshness, volume)", error.Message);
    }

    [Fact]
    public void A_rule_that_is_not_one_pair_is_an_error()
    {
        var error = DefinitionAssert.Single(Check("""
            expect:
              - { not_null: [id], unique: [id] }
            """), "each rule is one 'kind: value' pair");

        At(error, 10, 9);
    }

    [Theory]
    [InlineData("range: [amount, 0, 100]", "rule 'range' is written wrongly")]
    [InlineData("allowed: north", "rule 'allowed' is written wrongly")]
    [InlineData("rows: 5", "rule 'rows' is written wrongly")]
    [InlineData("sql: ''", "rule 'sql' is written wrongly")]
    [InlineData("not_null: { column: id }", "expected a column or a list of columns")]
    public void A_known_rule_with_the_wrong_shape_is_an_error(string rule, string message)
    {
        var errors = Check($"expect:\n  - {rule}");

        var error = DefinitionAssert.Single(errors, message);
        Assert.Equal(10, error.Location.Line);
        Assert.Equal("checked", error.StepId);
    }

    [Theory]
    [InlineData("range: { column: amount }", "a range rule needs min, max or both", 10, 16)]
    [InlineData("range: { min: 0 }", "missing required field 'column'", 10, 16)]
    [InlineData("range: { column: amount, min: low }", "field 'min' must be a number, got 'low'", 10, 39)]
    [InlineData("range: { column: amount, mn: 0 }", "unknown field 'mn' in a range rule", 10, 34)]
    [InlineData("allowed: { column: region }", "an allowed rule needs 'values: [...]'", 10, 18)]
    [InlineData("regex: { column: email, pattern: '[a-' }", "bad regex", 10, 42)]
    [InlineData("freshness: { column: updated_at }", "a freshness rule needs max_age", 10, 20)]
    [InlineData("freshness: { column: updated_at, max_age: soon }", "field 'max_age' must be a duration", 10, 51)]
    [InlineData("rows: { min: few }", "field 'min' must be an integer, got 'few'", 10, 22)]
    [InlineData("rows: { min: -1 }", "field 'min' must be at least 0", 10, 22)]
    [InlineData("rows: { at_least: 1 }", "unknown field 'at_least' in a rows rule", 10, 17)]
    [InlineData("volume: { seasonal: monthly }", "seasonal must be none or weekday", 10, 29)]
    [InlineData("volume: { threshold: high }", "field 'threshold' must be a number, got 'high'", 10, 30)]
    [InlineData("volume: { min_change: lots }", "field 'min_change' must be a number, got 'lots'", 10, 31)]
    [InlineData("volume: { min_history: 0 }", "field 'min_history' must be at least 1", 10, 32)]
    [InlineData("volume: { history: many }", "field 'history' must be an integer, got 'many'", 10, 28)]
    [InlineData("volume: { window: 7 }", "unknown field 'window' in a volume rule", 10, 19)]
    public void A_malformed_rule_option_is_an_error_at_its_line_and_column(string rule, string message, int line, int column)
    {
        var error = DefinitionAssert.Single(Check($"expect:\n  - {rule}"), message);

        At(error, line, column);
    }

    [Fact]
    public void Every_malformed_rule_is_reported_not_just_the_first()
    {
        var errors = Check("""
            expect:
              - not_nul: [a]
              - range: { column: x }
              - rows: { min: some }
            """);

        Assert.Equal([10, 11, 12], errors.Select(e => e.Location.Line).Order());
    }

    [Fact]
    public void A_check_needs_rules()
    {
        At(DefinitionAssert.Single(Check("on_failure: warn"), "a check step needs 'expect:' with at least one rule"), 6, 5);
        At(DefinitionAssert.Single(Check("expect: { not_null: [id] }"), "'expect' must be a list of rules"), 9, 13);
    }

    [Fact]
    public void An_unknown_policy_is_an_error()
    {
        var error = DefinitionAssert.Single(Check("expect: [ { not_null: [id] } ]\non_failure: drop"), "on_failure must be warn, quarantine or fail, got 'drop'");

        At(error, 10, 17);
    }

    [Fact]
    public void Examples_must_be_a_count()
    {
        At(DefinitionAssert.Single(Check("expect: [ { not_null: [id] } ]\nexamples: -2"), "field 'examples' must be at least 0"), 10, 15);
    }

    [Fact]
    public void A_check_takes_exactly_one_input()
    {
        _project.Workflow("ingest", """
            name: ingest
            steps:
              - id: a
                type: read
                path: raw/a.csv
              - id: b
                type: read
                path: raw/b.csv
              - id: checked
                type: check
                inputs: [a, b]
                expect: [ { not_null: [id] } ]
            """);

        DefinitionAssert.Single(_project.Check(), "a check step needs exactly one input, has 2");
    }

    [Fact]
    public void An_unknown_field_of_the_check_step_is_an_error()
    {
        var error = DefinitionAssert.Single(Check("expect: [ { not_null: [id] } ]\non_fail: warn"), "unknown field 'on_fail' in a check step");

        At(error, 10, 5);
    }
}
