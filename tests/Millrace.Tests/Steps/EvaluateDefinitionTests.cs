using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

/// <summary>The evaluate step's definition errors: each names the file, line and column and what is wrong.</summary>
public sealed class EvaluateDefinitionTests
{
    static async Task<IReadOnlyList<string>> ErrorsAsync(string fields, string inputs = "preds, labels")
    {
        await using var project = new TestProject();
        project.Workflow("seed", """
            name: seed
            steps:
              - id: rows
                type: read
                path: raw/x.csv
              - id: p
                type: write
                input: rows
                dataset: preds
              - id: l
                type: write
                input: rows
                dataset: labels
            """);
        project.Workflow("evaluate", $"""
            name: evaluate
            steps:
              - id: realized
                type: evaluate
                inputs: [{inputs}]
            {LearningProject.Indent(fields, "    ")}
            """);
        return project.Check().Select(e => e.ToString()).ToList();
    }

    [Theory]
    [InlineData("horizon: -3d", "field 'horizon' must be a duration")]
    [InlineData("horizon: 0d", "field 'horizon' must be longer than 0s")]
    [InlineData("horizon: 36h", "field 'horizon' must be whole days")]
    [InlineData("horizon: 4000d", "field 'horizon' must be at most 3650d")]
    public async Task A_bad_horizon_is_a_located_error(string horizon, string expected)
    {
        var errors = await ErrorsAsync($$"""
            model: churn
            predictions: preds
            label: { input: labels, key: customer_id, event_time: churned_at, {{horizon}} }
            """);

        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal) && e.Contains("evaluate.yaml:", StringComparison.Ordinal) && e.Contains("step 'realized'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("alert: { metric: accuracy, drop: 0.05 }", "alert.metric must be a metric with a holdout figure to compare with")]
    [InlineData("alert: { metric: calibration_error, drop: 0.05 }", "alert.metric must be a metric with a holdout figure")]
    [InlineData("alert: { metric: auc, drop: 1.5 }", "alert.drop must be less than 1 for auc, a metric between 0 and 1, got 1.5")]
    [InlineData("alert: { metric: auc, drop: -0.1 }", "drop must be positive")]
    [InlineData("recheck: 12h", "field 'recheck' must be whole days")]
    public async Task A_bad_alert_or_recheck_is_a_located_error(string field, string expected)
    {
        var errors = await ErrorsAsync($"""
            model: churn
            predictions: preds
            label: {"{"} input: labels, key: customer_id, event_time: churned_at, horizon: 14d {"}"}
            {field}
            """);

        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal) && e.Contains("evaluate.yaml:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Inputs_the_options_name_must_be_the_steps_and_a_label_needs_an_event_or_a_value()
    {
        var errors = await ErrorsAsync("""
            model: churn@champion
            predictions: preds
            shadow: preds
            label: { input: other, key: customer_id, horizon: 14d }
            """, inputs: "preds");

        Assert.Contains(errors, e => e.Contains("model must be a model name", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'preds' is both in predictions and in shadow", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("label names 'other', which is not one of the step's inputs (preds); add it to 'inputs:'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("label needs 'event_time'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_sound_definition_has_no_error()
    {
        var errors = await ErrorsAsync("""
            model: churn
            predictions: preds
            label: { input: labels, key: customer_id, event_time: churned_at, horizon: 14d }
            recheck: 0d
            alert: { metric: log_loss, drop: 2 }
            """);

        Assert.Empty(errors);
    }
}
