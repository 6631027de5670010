using Millrace.Learning;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

/// <summary>
/// The promotion gate of the train step: the first version becomes champion; a later one only if it beats the
/// champion, re-scored on the same holdout, by more than min_improvement — otherwise it is kept as challenger. Every
/// alias change is recorded with its reason, which names both metrics.
/// </summary>
public sealed class TrainPromotionGateTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/customers.csv", LearningData.Customers());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    /// <summary>Trains churn on <paramref name="features"/> (the informative 'tickets' or only noise) and returns the run.</summary>
    Task<Run> TrainAsync(string features, string promote = "{ metric: auc, min_improvement: 0.002 }") =>
        _project.TrainWorkflow("train", "raw/customers.csv", $$"""
            model: churn
            task: binary
            label: churned
            features: {{features}}
            options: { iterations: 30 }
            promote: {{promote}}
            """).RunSucceededAsync("train");

    const string Informative = "[tickets, region, minutes]";
    const string Noise = "[minutes, premium]";

    static string F(double value) => ModelBuilder.Format(value);

    [Fact]
    public async Task The_first_version_becomes_champion_and_the_change_is_recorded()
    {
        var run = await TrainAsync(Informative);

        Assert.Equal(new Dictionary<string, int> { ["champion"] = 1 }, await _project.AliasesAsync("churn"));
        var entry = Assert.Single(await _project.AliasHistoryAsync("churn"));
        Assert.Equal(("champion", 1, (int?)null, run.Id, $"run {run.Id}"), (entry.Alias, entry.Version, entry.PreviousVersion, entry.RunId, entry.Actor));
        Assert.Equal("first version of 'churn': no champion yet", entry.Reason);
        var details = await _project.StepDetailsAsync(run.Id, "fit");
        Assert.True(details.GetProperty("promoted").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, details.GetProperty("champion").ValueKind);
    }

    [Fact]
    public async Task A_better_version_becomes_champion_and_the_reason_names_both_metrics()
    {
        await TrainAsync(Noise);
        var run = await TrainAsync(Informative);

        var (v1, v2) = (await _project.ModelAsync("churn", 1), await _project.ModelAsync("churn", 2));
        Assert.True(v2.Metrics["auc"] > v1.Metrics["auc"] + 0.2, $"v1 auc {v1.Metrics["auc"]}, v2 auc {v2.Metrics["auc"]}");
        Assert.Equal(new Dictionary<string, int> { ["champion"] = 2 }, await _project.AliasesAsync("churn"));
        var history = await _project.AliasHistoryAsync("churn");
        Assert.Equal([("champion", (int?)2, (int?)1), ("champion", 1, null)], history.Select(h => (h.Alias, h.Version, h.PreviousVersion)));
        // v1 was re-scored on v2's holdout — the same rows it was evaluated on, the data being unchanged — so its AUC there is its own.
        var details = await _project.StepDetailsAsync(run.Id, "fit");
        Assert.Equal(v1.Metrics["auc"], details.GetProperty("champion_value").GetDouble(), 9);
        Assert.Equal(
            $"auc {F(v2.Metrics["auc"])} vs champion v1 {F(v1.Metrics["auc"])} on the same holdout (improvement {F(v2.Metrics["auc"] - v1.Metrics["auc"])}, needed more than 0.0020)",
            history[0].Reason);
        Assert.Equal(run.Id, history[0].RunId);
    }

    [Fact]
    public async Task A_worse_version_is_kept_as_challenger_and_the_champion_stays()
    {
        await TrainAsync(Informative);
        var run = await TrainAsync(Noise);

        var (v1, v2) = (await _project.ModelAsync("churn", 1), await _project.ModelAsync("churn", 2));
        Assert.Equal(new Dictionary<string, int> { ["challenger"] = 2, ["champion"] = 1 }, await _project.AliasesAsync("churn"));
        var history = await _project.AliasHistoryAsync("churn");
        Assert.Equal([("challenger", (int?)2, (int?)null), ("champion", 1, null)], history.Select(h => (h.Alias, h.Version, h.PreviousVersion)));
        Assert.StartsWith($"auc {F(v2.Metrics["auc"])} vs champion v1 {F(v1.Metrics["auc"])} on the same holdout (improvement -", history[0].Reason, StringComparison.Ordinal);
        var details = await _project.StepDetailsAsync(run.Id, "fit");
        Assert.False(details.GetProperty("promoted").GetBoolean());
        Assert.Equal("challenger", details.GetProperty("alias").GetString());
        // Predictions keep using the champion.
        Assert.Equal(1, (await new ModelRegistry(await _project.StoreAsync(), new Millrace.Lake.LakeRoot(_project.LakeDirectory))
            .ResolveAsync(ModelReference.Parse("churn"), CancellationToken.None))!.Version);
    }

    [Fact]
    public async Task The_same_training_inputs_twice_register_no_copy_and_the_step_says_why()
    {
        var first = await TrainAsync(Informative);
        // memo: false, so the workflow runs and the train step itself decides: the same rows, features, label and options.
        var yaml = File.ReadAllText(Path.Combine(_project.Directory, "workflows", "train.yaml"));
        _project.Workflow("train", "memo: false\n" + yaml);

        var run = await _project.RunSucceededAsync("train");

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Single(await _project.ModelVersionsAsync("churn"));
        Assert.Equal(new Dictionary<string, int> { ["champion"] = 1 }, await _project.AliasesAsync("churn"));
        Assert.Single(await _project.AliasHistoryAsync("churn"));
        Assert.False(Directory.Exists(_project.LakePath("models/churn/v2")));
        var details = await _project.StepDetailsAsync(run.Id, "fit");
        Assert.False(details.GetProperty("registered").GetBoolean());
        Assert.Equal(1, details.GetProperty("version").GetInt32());
        Assert.Equal("training inputs unchanged since churn v1 (the same rows, features, label and options): no new version registered", details.GetProperty("reason").GetString());
        Assert.Equal((await _project.ModelAsync("churn", 1)).Metrics["auc"], details.GetProperty("value").GetDouble(), 9);
        Assert.True((await _project.StepDetailsAsync(first.Id, "fit")).GetProperty("registered").GetBoolean());
        // Other options are other training inputs: a new version.
        _project.Workflow("train", "memo: false\n" + yaml.Replace("iterations: 30", "iterations: 31", StringComparison.Ordinal));
        await _project.RunSucceededAsync("train");
        Assert.Equal(2, (await _project.ModelVersionsAsync("churn")).Count);
    }

    [Fact]
    public async Task The_same_model_again_is_not_promoted_even_without_a_margin()
    {
        await TrainAsync(Informative, "{ min_improvement: 0 }");
        await TrainAsync(Informative, "{ min_improvement: 0 }");

        Assert.Equal(1, (await _project.AliasesAsync("churn"))["champion"]);
    }

    [Fact]
    public async Task The_champion_is_re_scored_on_todays_holdout_not_judged_by_its_old_metric()
    {
        await TrainAsync(Informative);
        // The relation flips: yesterday's champion is now wrong, and a model trained today is as good as it was.
        _project.LakeFile("raw/customers.csv", LearningData.Customers(reverse: true));

        var run = await TrainAsync(Informative);

        var (v1, v2) = (await _project.ModelAsync("churn", 1), await _project.ModelAsync("churn", 2));
        Assert.True(Math.Abs(v2.Metrics["auc"] - v1.Metrics["auc"]) < 0.05, $"v1 {v1.Metrics["auc"]} v2 {v2.Metrics["auc"]}: both fit their own data");
        var championToday = (await _project.StepDetailsAsync(run.Id, "fit")).GetProperty("champion_value").GetDouble();
        Assert.True(championToday < 0.2, $"the champion scored {championToday} on today's holdout");
        Assert.Equal(2, (await _project.AliasesAsync("churn"))["champion"]);
        Assert.Contains($"vs champion v1 {F(championToday)} on the same holdout", (await _project.AliasHistoryAsync("churn"))[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task For_an_error_metric_lower_is_better()
    {
        _project.LakeFile("raw/linear.csv", LearningData.Linear());
        Task<Run> Train(string features) => _project.TrainWorkflow("train", "raw/linear.csv", $$"""
            model: demand
            task: regression
            label: y
            features: {{features}}
            algorithm: sdca
            promote: { metric: rmse, min_improvement: 0.5 }
            """).RunSucceededAsync("train");

        await Train("[noise]");
        await Train("[x, z]");
        await Train("[x]");

        var (v1, v2, v3) = (await _project.ModelAsync("demand", 1), await _project.ModelAsync("demand", 2), await _project.ModelAsync("demand", 3));
        Assert.True(v2.Metrics["rmse"] < v3.Metrics["rmse"] && v3.Metrics["rmse"] < v1.Metrics["rmse"], $"rmse v1 {v1.Metrics["rmse"]}, v2 {v2.Metrics["rmse"]}, v3 {v3.Metrics["rmse"]}");
        Assert.Equal(new Dictionary<string, int> { ["challenger"] = 3, ["champion"] = 2 }, await _project.AliasesAsync("demand"));
        var history = await _project.AliasHistoryAsync("demand");
        Assert.Equal($"rmse {F(v2.Metrics["rmse"])} vs champion v1 {F(v1.Metrics["rmse"])} on the same holdout (improvement {F(v1.Metrics["rmse"] - v2.Metrics["rmse"])}, needed more than 0.5000)", history[1].Reason);
        Assert.StartsWith($"rmse {F(v3.Metrics["rmse"])} vs champion v2 {F(v2.Metrics["rmse"])} on the same holdout (improvement -", history[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_champion_whose_file_is_gone_fails_the_gate_with_the_path_named()
    {
        await TrainAsync(Informative);
        File.Delete(_project.LakePath("models/churn/v1/model.zip"));
        _project.LakeFile("raw/customers.csv", LearningData.Customers(seed: 2));

        var run = await _project.RunAsync("train");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("model churn@v1 is registered but its file models/churn/v1/model.zip is missing from the lake", run.Error, StringComparison.Ordinal);
        Assert.Single(await _project.ModelVersionsAsync("churn"));
        Assert.False(File.Exists(_project.LakePath("models/churn/v2/model.zip")));
    }
}
