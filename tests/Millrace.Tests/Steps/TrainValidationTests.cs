using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

/// <summary>
/// How the train step holds rows out: a random fraction, the newest fraction by a time column, or k folds. The data
/// has a drift (the relation reverses for the newest fifth of signups) that only a time-based holdout sees.
/// </summary>
public sealed class TrainValidationTests : IAsyncLifetime
{
    const int Rows = 400;
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/customers.csv", LearningData.Customers(Rows, reverseNewest: true));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    Task<Run> TrainAsync(string validation, int iterations = 30) =>
        _project.TrainWorkflow("train", "raw/customers.csv", $$"""
            model: churn
            task: binary
            label: churned
            features: [tickets, region, minutes]
            options: { iterations: {{iterations}} }
            validation: {{validation}}
            """).RunSucceededAsync("train");

    [Fact]
    public async Task A_random_holdout_takes_about_the_fraction_and_sees_mostly_the_old_relation()
    {
        await TrainAsync("{ method: random, fraction: 0.25 }");

        var model = await _project.ModelAsync("churn");
        Assert.Equal(Rows, model.TrainRows + model.HoldoutRows);
        Assert.InRange(model.HoldoutRows, Rows * 0.25 - 30, Rows * 0.25 + 30);
        Assert.Equal("random 0.25", model.Options["validation"]);
        Assert.True(model.Metrics["auc"] > 0.6, $"auc {model.Metrics["auc"]}: four fifths of a random holdout follow the learned relation");
    }

    [Theory]
    [InlineData("{ method: random, fraction: 0.25 }", "row", 42, 2500)]
    [InlineData("{ method: random, column: customer_id, seed: 7 }", "customer_id", 7, 2000)]
    public async Task A_random_holdout_is_the_rows_whose_md5_number_falls_under_the_fraction(string validation, string key, int seed, int threshold)
    {
        // The fold is md5_number(key || '-seed') % 10000, as it always was (now computed from the hash's two halves).
        await TrainAsync(validation);

        var model = await _project.ModelAsync("churn");
        var keys = key == "row" ? "SELECT range + 1 AS k FROM range(" + Rows + ")" : $"SELECT customer_id AS k FROM read_csv('{_project.LakePath("raw/customers.csv")}')";
        var expected = (long)TestProject.Query($"SELECT count(*) FILTER (WHERE md5_number(CAST(k AS VARCHAR) || '-{seed}') % 10000 < {threshold}) FROM ({keys})")[0][0]!;
        Assert.Equal(expected, model.HoldoutRows);
    }

    [Fact]
    public async Task A_random_holdout_by_a_key_column_is_the_same_rows_whatever_the_order()
    {
        await TrainAsync("{ method: random, column: customer_id, seed: 7 }");
        var first = await _project.ModelAsync("churn");
        // The same customers in reverse order: hashing the key puts each in the same split.
        var lines = LearningData.Customers(Rows, reverseNewest: true).TrimEnd('\n').Split('\n');
        _project.LakeFile("raw/customers.csv", string.Join('\n', lines.Take(1).Concat(lines.Skip(1).Reverse())) + "\n");

        // Other options, so that a second version is trained: the same rows in another order alone register no copy.
        var run = await TrainAsync("{ method: random, column: customer_id, seed: 7 }", iterations: 31);

        var second = await _project.ModelAsync("churn", 2);
        Assert.Equal((first.TrainRows, first.HoldoutRows), (second.TrainRows, second.HoldoutRows));
        Assert.Equal("random 0.2 by customer_id", second.Options["validation"]);
        Assert.Equal("7", second.Options["seed"]);
        // The gate re-scored v1 on the second run's holdout: the very rows v1 was evaluated on, so the same AUC.
        var details = await _project.StepDetailsAsync(run.Id, "fit");
        Assert.Equal(first.Metrics["auc"], details.GetProperty("champion_value").GetDouble(), 9);
    }

    [Fact]
    public async Task A_time_holdout_is_the_newest_rows()
    {
        await TrainAsync("{ method: time, column: signup, fraction: 0.2 }");

        var model = await _project.ModelAsync("churn");
        Assert.Equal(Rows, model.TrainRows + model.HoldoutRows);
        Assert.InRange(model.HoldoutRows, Rows * 0.2 - 20, Rows * 0.2 + 20);
        Assert.Equal("time 0.2 by signup", model.Options["validation"]);
        // Trained on the old relation only and judged on the newest signups, where it is reversed.
        Assert.True(model.Metrics["auc"] < 0.3, $"auc {model.Metrics["auc"]}: the time holdout should be the reversed newest fifth");
    }

    [Fact]
    public async Task K_fold_averages_the_folds_and_trains_the_model_on_every_row()
    {
        _project.LakeFile("raw/customers.csv", LearningData.Customers(Rows));

        await TrainAsync("{ method: kfold, folds: 3 }");

        var model = await _project.ModelAsync("churn");
        Assert.Equal("kfold 3", model.Options["validation"]);
        Assert.Equal((long)Rows, model.TrainRows);
        Assert.Equal((long)Rows, model.HoldoutRows);
        Assert.True(model.Metrics["auc"] > 0.9, $"auc {model.Metrics["auc"]}");
        Assert.InRange(model.Metrics["accuracy"], 0.85, 1.0);
    }

    [Fact]
    public async Task A_time_validation_without_a_column_is_a_definition_error()
    {
        _project.TrainWorkflow("train", "raw/customers.csv", """
            model: churn
            task: binary
            label: churned
            validation: { method: time }
            """);

        DefinitionAssert.Single(_project.Check(), "time validation needs 'column'");
        await Task.CompletedTask;
    }
}
