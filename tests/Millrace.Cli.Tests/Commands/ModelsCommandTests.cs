using System.Globalization;
using System.Text;
using Millrace.Cli.Tests.TestSupport;
using Millrace.Definitions;
using Millrace.Storage;

namespace Millrace.Cli.Tests.Commands;

/// <summary>
/// `millrace models list | show | promote | rollback` in process, on models trained by `millrace run`; and the
/// exactly-once guarantee for registrations, with a child process killed around the train workflow's commit.
/// </summary>
public sealed class ModelsCommandTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>
    /// A churn project: 300 customers whose churn follows their tickets; workflow train_good trains on the tickets,
    /// train_noise on a noise column only, score scores every customer with the champion.
    /// </summary>
    static TempDirectory ChurnProject()
    {
        var directory = new TempDirectory();
        directory.Write("millrace.yaml", "id: models\n");
        var random = new Random(5);
        var csv = new StringBuilder("customer_id,tickets,minutes,churned\n");
        for (var id = 1; id <= 300; id++)
        {
            var tickets = random.Next(10);
            csv.Append(CultureInfo.InvariantCulture, $"{id},{tickets},{random.Next(100)},{(tickets >= 5 ? "true" : "false")}\n");
        }
        directory.Write("lake/raw/customers.csv", csv.ToString());
        foreach (var (name, features) in new[] { ("train_good", "[tickets, minutes]"), ("train_noise", "[minutes]") })
            directory.Write($"workflows/{name}.yaml", $$"""
                name: {{name}}
                steps:
                  - id: data
                    type: read
                    path: raw/customers.csv
                  - id: fit
                    type: train
                    input: data
                    model: churn
                    task: binary
                    label: churned
                    features: {{features}}
                    options: { iterations: 20 }
                    promote: { metric: auc, min_improvement: 0.002 }
                """);
        directory.Write("workflows/score.yaml", """
            name: score
            steps:
              - id: data
                type: read
                path: raw/customers.csv
              - id: scored
                type: predict
                input: data
                model: churn
              - id: out
                type: write
                input: scored
                path: predictions/churn.parquet
            """);
        return directory;
    }

    static async Task RunAsync(TempDirectory project, params string[] args)
    {
        var result = await Shell.RunAsync([.. args, "-p", project.Path]);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    static async Task<(IReadOnlyDictionary<string, int> Aliases, IReadOnlyList<AliasHistoryEntry> History, IReadOnlyList<ModelVersion> Versions)> RegistryAsync(string directory)
    {
        await using var store = await MetadataStores.OpenAsync(Project.Open(directory), CancellationToken.None);
        return (await store.GetAliasesAsync("churn", CancellationToken.None), await store.GetAliasHistoryAsync("churn", CancellationToken.None),
            await store.ListModelVersionsAsync("churn", CancellationToken.None));
    }

    [Fact]
    public async Task List_with_no_model_says_so()
    {
        using var project = ChurnProject();

        var result = await Shell.RunAsync("models", "list", "-p", project.Path);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("no models registered yet", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_show_rollback_and_promote_through_a_models_life()
    {
        using var project = ChurnProject();
        await RunAsync(project, "run", "train_noise");
        await RunAsync(project, "run", "train_good");
        var (_, _, versions) = await RegistryAsync(project.Path);
        var auc = versions[0].Metrics["auc"].ToString("0.0000", CultureInfo.InvariantCulture);

        var list = await Shell.RunAsync("models", "list", "-p", project.Path);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("churn", list.Output, StringComparison.Ordinal);
        Assert.Contains("champion=v2", list.Output, StringComparison.Ordinal);
        Assert.Contains($"auc {auc}", list.Output, StringComparison.Ordinal);

        var show = await Shell.RunAsync("models", "show", "churn", "-p", project.Path);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("alias history (newest first):", show.Output, StringComparison.Ordinal);
        Assert.Contains($"champion: v1 -> v2 by run {versions[0].RunId}: auc {auc} vs champion v1", show.Output, StringComparison.Ordinal);
        Assert.Contains("champion: - -> v1", show.Output, StringComparison.Ordinal);
        Assert.True(show.Output.IndexOf("v1 -> v2", StringComparison.Ordinal) < show.Output.IndexOf("- -> v1", StringComparison.Ordinal), show.Output);

        var detail = await Shell.RunAsync("models", "show", "churn", "2", "-p", project.Path);
        Assert.True(detail.ExitCode == 0, detail.ToString());
        Assert.Contains("churn v2: binary on 'churned', lightgbm", detail.Output, StringComparison.Ordinal);
        Assert.Contains("aliases: champion; file models/churn/v2/model.zip", detail.Output, StringComparison.Ordinal);
        Assert.Contains("tickets", detail.Output, StringComparison.Ordinal);

        var rollback = await Shell.RunAsync("models", "rollback", "churn", "-p", project.Path);
        Assert.True(rollback.ExitCode == 0, rollback.ToString());
        Assert.Contains("churn@champion: v2 -> v1 (rolled back)", rollback.Output, StringComparison.Ordinal);
        var (aliases, history, _) = await RegistryAsync(project.Path);
        Assert.Equal(1, aliases["champion"]);
        Assert.Equal(("champion", (int?)1, (int?)2, "rollback from v2"), (history[0].Alias, history[0].Version, history[0].PreviousVersion, history[0].Reason));
        Assert.StartsWith("cli:", history[0].Actor, StringComparison.Ordinal);

        // Predictions now come from v1 and say so.
        await RunAsync(project, "run", "score");
        var scoredVersions = Committed.Query($"SELECT DISTINCT model_version FROM read_parquet('{Path.Combine(project.Path, "lake", "predictions", "churn.parquet")}')");
        Assert.Equal(["1"], scoredVersions);

        var promote = await Shell.RunAsync("models", "promote", "churn", "2", "--reason", "v1 was fine after all", "-p", project.Path);
        Assert.True(promote.ExitCode == 0, promote.ToString());
        Assert.Contains("churn@champion: v1 -> v2", promote.Output, StringComparison.Ordinal);
        (aliases, history, _) = await RegistryAsync(project.Path);
        Assert.Equal(2, aliases["champion"]);
        Assert.Equal(("champion", (int?)2, (int?)1, "v1 was fine after all"), (history[0].Alias, history[0].Version, history[0].PreviousVersion, history[0].Reason));
        Assert.Equal(4, history.Count);
    }

    [Fact]
    public async Task Promote_sets_any_alias_by_hand()
    {
        using var project = ChurnProject();
        await RunAsync(project, "run", "train_good");

        var result = await Shell.RunAsync("models", "promote", "churn", "1", "--alias", "production", "-p", project.Path);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("churn@production: - -> v1", result.Output, StringComparison.Ordinal);
        var (aliases, history, _) = await RegistryAsync(project.Path);
        Assert.Equal(new Dictionary<string, int> { ["champion"] = 1, ["production"] = 1 }, aliases);
        Assert.Equal("promoted by hand", history[0].Reason);
    }

    [Fact]
    public async Task Rollback_without_a_previous_champion_and_unknown_models_or_versions_fail_clearly()
    {
        using var project = ChurnProject();
        await RunAsync(project, "run", "train_good");

        async Task Fails(string message, params string[] args)
        {
            var result = await Shell.RunAsync([.. args, "-p", project.Path]);
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Contains(message, result.Error, StringComparison.Ordinal);
        }

        await Fails("model 'churn' champion v1 has no previous champion to roll back to", "models", "rollback", "churn");
        await Fails("model 'upsell' has no champion to roll back", "models", "rollback", "upsell");
        await Fails("model 'churn' has no version v9", "models", "promote", "churn", "9");
        await Fails("no model 'upsell' (see 'millrace models list')", "models", "show", "upsell");
        await Fails("model 'churn' has no version v9", "models", "show", "churn", "9");
        var (aliases, history, versions) = await RegistryAsync(project.Path);
        Assert.Equal(new Dictionary<string, int> { ["champion"] = 1 }, aliases);
        Assert.Single(history);
        Assert.Single(versions);
    }

    [Theory]
    [InlineData("train_good.commit.before")]
    [InlineData("train_good.commit.after")]
    public async Task A_training_killed_around_its_commit_registers_v1_exactly_once_after_retry(string point)
    {
        using var project = ChurnProject();
        var models = Path.Combine(project.Path, "lake", "models");

        var crashed = await Shell.RunProcessAsync(new Dictionary<string, string> { ["MILLRACE_FAULT"] = point }, Timeout, "run", "train_good", "-p", project.Path);
        Assert.True(crashed.ExitCode != 0 && crashed.Error.Contains($"killing the process at {point}", StringComparison.Ordinal), crashed.ToString());

        var (_, _, registered) = await RegistryAsync(project.Path);
        if (point.EndsWith(".commit.after", StringComparison.Ordinal))
            Assert.Single(registered); // committed: the registration is durable, its files are published by the recovery below
        else
        {
            Assert.Empty(registered);
            Assert.False(Directory.Exists(models) && Directory.EnumerateFiles(models, "*", SearchOption.AllDirectories).Any(), "no model file before the commit");
        }

        var runId = Assert.Single(await Committed.RunsAsync(project.Path)).Id;
        var retried = await Shell.RunProcessAsync(null, Timeout, "retry", runId, "-p", project.Path);
        Assert.True(retried.ExitCode == 0, retried.ToString());

        var (aliases, history, versions) = await RegistryAsync(project.Path);
        Assert.Equal([1], versions.Select(v => v.Version));
        Assert.Equal(new Dictionary<string, int> { ["champion"] = 1 }, aliases);
        Assert.Single(history);
        Assert.Equal(
            ["churn/v1/holdout.parquet", "churn/v1/metadata.json", "churn/v1/model.zip"],
            Directory.EnumerateFiles(models, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(models, f).Replace('\\', '/')).Order(StringComparer.Ordinal));
        await RunAsync(project, "run", "score");
    }
}
