using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Definitions;

/// <summary>validate checks columns where they can be known before running: a read with a schema, then sql and check steps downstream.</summary>
public sealed class ColumnCheckTests : IAsyncDisposable
{
    readonly TestProject _project = new();

    const string Read = """
        steps:
          - id: events
            type: read
            path: raw/events/*.csv
            schema: { event_id: BIGINT, customer_id: BIGINT, amount: DOUBLE, day: DATE }

        """;

    IReadOnlyList<Millrace.Definitions.DefinitionError> Check(string steps) => _project.Workflow("daily", Read + steps).Check();

    [Fact]
    public void A_query_naming_a_column_its_input_lacks_is_an_error_at_the_sql()
    {
        var error = DefinitionAssert.Single(Check("""
              - id: totals
                type: sql
                input: events
                sql: SELECT customer_id, sum(amout) AS total FROM events GROUP BY customer_id
            """), "the query does not fit its inputs' columns");
        Assert.Equal(("workflows/daily.yaml", 9, 10, "totals"), (error.Location.File, error.Location.Line, error.Location.Column, error.StepId));
        Assert.Contains("amout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Columns_flow_through_sql_steps_to_a_train_label_and_check_rules()
    {
        var errors = Check("""
              - id: totals
                type: sql
                input: events
                sql: SELECT customer_id, sum(amount) AS total, max(day) AS last_day FROM events GROUP BY customer_id
              - id: checked
                type: check
                input: totals
                expect:
                  - not_null: [customer_id, totl]
              - id: model
                type: train
                input: checked
                model: spend
                task: regression
                label: totals
            """);
        Assert.Contains("rule not_null(totl): column 'totl' is not in input 'totals'", DefinitionAssert.Single(errors, "totl").Message, StringComparison.Ordinal);
        var label = DefinitionAssert.Single(errors, "label: column 'totals'");
        Assert.Equal(("model", 20), (label.StepId, label.Location.Line));
        Assert.Contains("did you mean 'total'", label.Message, StringComparison.Ordinal);
        Assert.Equal(2, errors.Count);
    }

    [Fact]
    public void A_sound_workflow_has_no_column_errors_and_unknown_schemas_are_skipped()
    {
        DefinitionAssert.None(Check("""
              - id: totals
                type: sql
                input: events
                sql: SELECT customer_id, sum(amount) AS total FROM events WHERE day <= ${run.date} GROUP BY customer_id
              - id: raw
                type: read
                path: raw/other/*.parquet
              - id: anything
                type: sql
                inputs: [raw, totals]
                sql: SELECT not_known_here FROM raw JOIN totals USING (customer_id)
              - id: merged
                type: merge
                input: totals
                into: spend
                key: customer_id
            """));
        DefinitionAssert.Single(Check("""
              - id: merged
                type: merge
                input: events
                into: spend
                key: customr_id
            """), "key: column 'customr_id' is not in input 'events'");
    }

    [Fact]
    public void Validate_describes_a_query_without_executing_it()
    {
        // Executed, 'loud' would fail (and a cross join of 10^12 rows would never end); described, its columns are
        // known, so the step after it is checked against them.
        var error = DefinitionAssert.Single(Check("""
              - id: loud
                type: sql
                input: events
                sql: SELECT customer_id, error('executed at validate time')::BIGINT AS total FROM events, range(1000000) a, range(1000000) b
              - id: after
                type: sql
                input: loud
                sql: SELECT customer_id, totl FROM loud
            """), "the query does not fit its inputs' columns");
        Assert.Equal("after", error.StepId);
        Assert.Contains("totl", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validating_binds_a_query_without_running_it()
    {
        // error() raises only when the query runs; a huge range() would take hours: validate does neither.
        DefinitionAssert.None(Check("""
              - id: big
                type: sql
                sql: SELECT count(*) AS n, error('ran at validate time') AS e FROM range(10000000000) a, range(10000000000) b
              - id: per_customer
                type: sql
                input: events
                sql: SELECT customer_id, error('ran at validate time') AS e FROM events
            """));
    }

    public ValueTask DisposeAsync() => _project.DisposeAsync();
}
