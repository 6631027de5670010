using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

/// <summary>
/// <c>promote.guard</c> on the train step: allowances of the wrong sign or range, and metrics the task does not have,
/// are located definition errors; in a run the guard is checked against the champion on the same holdout and the
/// reason is recorded with the alias change.
/// </summary>
public sealed class TrainGuardTests
{
    static async Task<IReadOnlyList<string>> ErrorsAsync(string promote, string task = "binary")
    {
        await using var project = new TestProject();
        project.TrainWorkflow("train", "raw/customers.csv", $"""
            model: churn
            task: {task}
            label: churned
            promote: {promote}
            """);
        return project.Check().Select(e => e.ToString()).ToList();
    }

    [Theory]
    [InlineData("{ metric: auc, guard: { pr_auc: 0.02 } }", "pr_auc must be between -1 and 0, got 0.02")]
    [InlineData("{ metric: auc, guard: { pr_auc: -1.5 } }", "pr_auc must be between -1 and 0, got -1.5")]
    [InlineData("{ metric: auc, guard: { log_loss: -0.01 } }", "log_loss must be at least 0, got -0.01")]
    [InlineData("{ metric: auc, guard: { rmse: 0.1 } }", "guard metric 'rmse' is not a binary metric (auc, pr_auc, log_loss, f1, accuracy, precision, recall)")]
    [InlineData("{ metric: auc, guard: { pr_aucc: -0.02 } }", "pr_aucc")]
    [InlineData("{ metric: auc, guard: { pr_auc: lots } }", "field 'pr_auc' must be a number, got 'lots'")]
    public async Task A_bad_guard_is_a_located_definition_error(string promote, string expected)
    {
        var errors = await ErrorsAsync(promote);

        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal) && e.Contains("train.yaml:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_sound_guard_is_no_error()
    {
        Assert.Empty(await ErrorsAsync("{ metric: auc, guard: { pr_auc: -0.02, log_loss: +0.01 } }"));
        Assert.Empty(await ErrorsAsync("{ metric: rmse, guard: { r2: -0.05, mae: 0.5 } }", "regression"));
    }
}
