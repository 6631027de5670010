using System.Globalization;
using System.Text;
using System.Text.Json;
using Millrace.Cli.Tests.TestSupport;
using Millrace.Definitions;
using Millrace.Storage;

namespace Millrace.Cli.Tests.Commands;

/// <summary>`millrace models performance NAME`: the realized-performance table and sparkline, JSON, and bad dates.</summary>
public sealed class ModelsPerformanceCommandTests
{
    static async Task<TempDirectory> ProjectWithPointsAsync()
    {
        var directory = new TempDirectory();
        directory.Write("millrace.yaml", "id: perfcli\n");
        var csv = new StringBuilder("customer_id,tickets,churned\n");
        for (var id = 1; id <= 200; id++) csv.Append(CultureInfo.InvariantCulture, $"{id},{id % 10},{(id % 10 >= 5 ? "true" : "false")}\n");
        directory.Write("lake/raw/customers.csv", csv.ToString());
        directory.Write("workflows/train.yaml", """
            name: train
            steps:
              - { id: data, type: read, path: raw/customers.csv }
              - { id: fit, type: train, input: data, model: churn, task: binary, label: churned, features: [tickets], algorithm: logistic }
            """);
        var run = await Shell.RunAsync("run", "train", "-p", directory.Path);
        Assert.True(run.ExitCode == 0, run.ToString());
        await using var store = await MetadataStores.OpenAsync(Project.Open(directory.Path), CancellationToken.None);
        await store.AddPerformanceAsync([.. Enumerable.Range(0, 4).Select(day => new PerformancePoint
        {
            ProjectId = "perfcli", Model = "churn", Version = 1, Variant = PredictionVariant.Champion, ScoreDate = new DateOnly(2026, 1, 1).AddDays(day),
            Metrics = new Dictionary<string, double> { ["auc"] = 0.9 - day * 0.05 }, ScoredRows = 100, LabelledRows = 50, RunId = "r", RecordedAt = new DateTimeOffset(2026, 1, 20, 0, 0, 0, TimeSpan.Zero),
        })], CancellationToken.None);
        return directory;
    }

    [Fact]
    public async Task The_table_lists_each_score_date_and_a_sparkline_follows_and_json_is_the_apis_shape()
    {
        using var project = await ProjectWithPointsAsync();

        var table = await Shell.RunAsync("models", "performance", "churn", "--from", "2026-01-02", "-p", project.Path);
        var json = await Shell.RunAsync("models", "performance", "churn", "--format", "json", "-p", project.Path);
        var bad = await Shell.RunAsync("models", "performance", "churn", "--from", "2026-02-30", "-p", project.Path);

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.DoesNotContain("2026-01-01", table.Output, StringComparison.Ordinal);
        Assert.Contains("2026-01-04", table.Output, StringComparison.Ordinal);
        Assert.Contains("0.7500", table.Output, StringComparison.Ordinal);
        Assert.Contains("v1 champion auc █▅▁ 0.750..0.850", table.Output, StringComparison.Ordinal);
        Assert.Contains("holdout", table.Output, StringComparison.Ordinal);
        var view = JsonDocument.Parse(json.Output).RootElement;
        Assert.Equal(4, view.GetProperty("points").GetArrayLength());
        Assert.Equal(0.5, view.GetProperty("points")[0].GetProperty("coverage").GetDouble());
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--from must be a date yyyy-MM-dd, got '2026-02-30'", bad.Error, StringComparison.Ordinal);
    }
}
