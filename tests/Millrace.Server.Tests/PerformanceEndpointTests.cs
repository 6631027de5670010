using System.Net;
using System.Text.Json;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>
/// <c>GET /projects/{id}/models/{name}/performance</c>: the realized-performance series with each version's holdout
/// figures, filtered by dates and version; hostile query values are a 400 with a detail, an unknown model a 404.
/// </summary>
public sealed class PerformanceEndpointTests : IAsyncLifetime
{
    readonly ProjectFolder _project = new("perf");
    TestServer _server = null!;
    HttpClient _viewer = null!;

    public async Task InitializeAsync()
    {
        var rows = string.Join("\n", Enumerable.Range(0, 300).Select(i => $"{i},{(i % 100) / 100.0:0.00}"));
        _project.LakeFile("raw/train.csv", "id,x\n" + rows + "\n").Workflow("train", """
            name: train
            steps:
              - { id: data, type: read, path: raw/train.csv }
              - { id: labelled, type: sql, inputs: [data], sql: "SELECT x, x > 0.5 AS y FROM data" }
              - { id: model, type: train, input: labelled, model: scorer, task: binary, label: y, algorithm: logistic }
            """);
        _server = await TestServer.StartAsync(_project);
        _viewer = _server.Client(await _server.TokenAsync("perf", TokenRole.Viewer));
        Assert.Equal(RunStatus.Succeeded, (await _server.Host("perf").Runner.RunAsync(new Engine.RunRequest("train", []))).Status);
        // The points an evaluate step records (its own tests run it end to end); here they are the store's real rows.
        var points = Enumerable.Range(0, 5).Select(day => new PerformancePoint
        {
            ProjectId = "perf", Model = "scorer", Version = 1, Variant = day == 4 ? PredictionVariant.Shadow : PredictionVariant.Champion,
            ScoreDate = new DateOnly(2026, 1, 1).AddDays(day == 4 ? 3 : day), Metrics = day == 2 ? new Dictionary<string, double>() : new Dictionary<string, double> { ["auc"] = 0.9 - day * 0.01 },
            ScoredRows = 100, LabelledRows = day == 2 ? 0 : 80, RunId = "run-" + day, RecordedAt = new DateTimeOffset(2026, 1, 20, 0, 0, 0, TimeSpan.Zero),
        }).ToList();
        await _server.Host("perf").Store.AddPerformanceAsync(points, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _project.Dispose();
    }

    [Fact]
    public async Task The_series_lists_points_by_score_date_with_coverage_and_the_holdout_figures()
    {
        var view = await _viewer.GetJsonAsync("/api/v1/projects/perf/models/scorer/performance");

        Assert.Equal(("binary", "auc"), (view.GetProperty("task").GetString(), view.GetProperty("metricNames")[0].GetString()));
        var points = view.GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-04"], points.Select(p => p.GetProperty("scoreDate").GetString()));
        Assert.Equal(["champion", "champion", "champion", "champion", "shadow"], points.Select(p => p.GetProperty("variant").GetString()));
        // The date without labels shows its coverage and no metric.
        Assert.Equal(0.0, points[2].GetProperty("coverage").GetDouble());
        Assert.Equal(JsonValueKind.Object, points[2].GetProperty("metrics").ValueKind);
        Assert.False(points[2].GetProperty("metrics").TryGetProperty("auc", out _));
        Assert.Equal(0.8, points[0].GetProperty("coverage").GetDouble(), 6);
        var holdout = Assert.Single(view.GetProperty("holdout").EnumerateArray());
        Assert.Equal(1, holdout.GetProperty("version").GetInt32());
        Assert.True(holdout.GetProperty("metrics").GetProperty("auc").GetDouble() > 0.9);
    }

    [Fact]
    public async Task From_to_and_version_filter_the_series()
    {
        var view = await _viewer.GetJsonAsync("/api/v1/projects/perf/models/scorer/performance?from=2026-01-02&to=2026-01-03&version=v1");
        Assert.Equal(["2026-01-02", "2026-01-03"], view.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("scoreDate").GetString()));
        var other = await _viewer.GetJsonAsync("/api/v1/projects/perf/models/scorer/performance?version=7");
        Assert.Equal(0, other.GetProperty("points").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await _viewer.GetAsync("/api/v1/projects/perf/models/nope/performance")).StatusCode);
    }

    [Theory]
    [Trait("Category", "Security")]
    [InlineData("from=yesterday", "'from' must be a date yyyy-MM-dd, got 'yesterday'")]
    [InlineData("to=2026-13-01", "'to' must be a date yyyy-MM-dd, got '2026-13-01'")]
    [InlineData("version=1%3B%20DROP%20TABLE%20performance", "'version' must be a version number such as 3 or v3, got '1; DROP TABLE performance'")]
    [InlineData("version=-1", "'version' must be a version number")]
    [InlineData("from=2026-02-01&to=2026-01-01", "'from' (2026-02-01) is after 'to' (2026-01-01)")]
    public async Task A_malformed_query_is_a_400_with_a_detail(string query, string detail)
    {
        var response = await _viewer.GetAsync($"/api/v1/projects/perf/models/scorer/performance?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Security")]
    public async Task Without_a_token_the_series_is_refused()
    {
        using var anonymous = new HttpClient { BaseAddress = _server.BaseAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/projects/perf/models/scorer/performance")).StatusCode);
    }
}
