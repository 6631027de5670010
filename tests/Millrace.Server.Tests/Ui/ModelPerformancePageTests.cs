using System.Net;
using Millrace.Storage;

namespace Millrace.Server.Tests.Ui;

/// <summary>The model page's realized-performance section: a chart per version with the holdout reference line, and the points.</summary>
[Collection(UiCollection.Name)]
public sealed class ModelPerformancePageTests(UiServerFixture fixture)
{
    [Fact]
    public async Task The_model_page_charts_the_realized_metric_against_the_holdout_with_the_coverage()
    {
        var host = fixture.Server.Host(UiProject.Id);
        var version = (await host.Store.ListModelVersionsAsync(UiProject.Model, CancellationToken.None))[^1].Version;
        await host.Store.AddPerformanceAsync([.. Enumerable.Range(0, 3).Select(day => new PerformancePoint
        {
            ProjectId = UiProject.Id, Model = UiProject.Model, Version = version, Variant = PredictionVariant.Champion, ScoreDate = new DateOnly(2026, 1, 1).AddDays(day),
            Metrics = new Dictionary<string, double> { ["auc"] = 0.8 + day * 0.01 }, ScoredRows = 10, LabelledRows = 5, RunId = "r", RecordedAt = host.Clock.GetUtcNow(),
        })], CancellationToken.None);
        using var client = await fixture.SignedInAsync(fixture.Viewer);

        var (response, page) = await client.GetAsync($"/ui/projects/{UiProject.Id}/models/{UiProject.Model}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var section = page[page.IndexOf("<h2>Realized performance", StringComparison.Ordinal)..];
        Assert.Contains($"<div class=\"chart\" data-version=\"{version}\"><svg", section, StringComparison.Ordinal);
        Assert.Contains("holdout auc", section, StringComparison.Ordinal);
        Assert.Contains("coverage", section, StringComparison.Ordinal);
        Assert.Contains("<td>2026-01-03</td>", section, StringComparison.Ordinal);
    }
}
