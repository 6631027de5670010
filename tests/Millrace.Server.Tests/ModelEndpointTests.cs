using System.Net;
using System.Text.Json;
using Millrace.Server.Api;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>
/// Models over the API: versions and aliases, promote and rollback by role, and online scoring that follows the
/// champion without a restart.
/// </summary>
public sealed class ModelEndpointTests : IAsyncLifetime
{
    readonly ProjectFolder _project = new("scores");
    TestServer _server = null!;
    HttpClient _admin = null!;
    HttpClient _viewer = null!;

    public async Task InitializeAsync()
    {
        // y is true when x > 0.5; 'flipped' learns the opposite, so the two versions disagree on every row.
        var rows = string.Join("\n", Enumerable.Range(0, 400).Select(i => $"{i},{(i % 100) / 100.0:0.00},{(i % 3 == 0 ? "a" : "b")}"));
        _project.LakeFile("raw/train.csv", "id,x,tag\n" + rows + "\n")
            .Workflow("train", """
                name: train
                parameters: { flip: { type: bool, default: false } }
                steps:
                  - { id: data, type: read, path: raw/train.csv }
                  - id: labelled
                    type: sql
                    inputs: [data]
                    sql: SELECT x, tag, (x > 0.5) <> $flip AS y FROM data
                  - id: model
                    type: train
                    input: labelled
                    model: scorer
                    task: binary
                    label: y
                    algorithm: logistic
                    promote: { metric: auc, min_improvement: 0.5 }
                """);
        _server = await TestServer.StartAsync(_project);
        _admin = _server.Client(await _server.TokenAsync("scores", TokenRole.Admin));
        _viewer = _server.Client(await _server.TokenAsync("scores", TokenRole.Viewer));
        Assert.Equal(RunStatus.Succeeded, (await _server.Host("scores").Runner.RunAsync(new Engine.RunRequest("train", []))).Status);
        Assert.Equal(RunStatus.Succeeded, (await _server.Host("scores").Runner.RunAsync(new Engine.RunRequest("train", [new("flip", "true")]))).Status);
        // v2 beat v1 on its own (flipped) holdout; start each test with v1 as champion again.
        await new Learning.ModelRegistry(_server.Host("scores").Store, new Lake.LakeRoot(_server.Host("scores").Definition.LakeRoot))
            .PromoteAsync("scorer", 1, "champion", "test", "start from v1", CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _project.Dispose();
    }

    const string Rows = """[{"x": 0.9, "tag": "a"}, {"x": 0.1, "tag": "b"}, {"x": 0.8, "extra": 1}]""";

    [Fact]
    public async Task Models_list_versions_metrics_and_aliases()
    {
        var model = await _viewer.GetJsonAsync("/api/v1/projects/scores/models/scorer");
        Assert.Equal(2, model.GetProperty("versions").GetArrayLength());
        Assert.Equal(1, model.GetProperty("aliases").GetProperty("champion").GetInt32());
        Assert.True(model.GetProperty("versions")[1].GetProperty("metrics").GetProperty("auc").GetDouble() > 0.9);
        var missing = await _viewer.GetAsync("/api/v1/projects/scores/models/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Online_scoring_uses_the_champion_and_follows_a_promotion_without_a_restart()
    {
        var (response, first) = await _viewer.PostAsync("/api/v1/models/scorer/predict?projectId=scores", Rows);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("extra", response.Headers.GetValues("Warning").Single(), StringComparison.Ordinal);
        Assert.Equal(1, first.GetProperty("version").GetInt32());
        var predictions = first.GetProperty("predictions");
        Assert.Equal(3, predictions.GetArrayLength());
        Assert.True(predictions[0].GetProperty("probability").GetDouble() > 0.5);
        Assert.True(predictions[1].GetProperty("probability").GetDouble() < 0.5);
        Assert.True(predictions[0].GetProperty("predictedLabel").GetBoolean());

        var (denied, _) = await _viewer.PostAsync("/api/v1/projects/scores/models/scorer/promote", """{"version": 2}""");
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        var (promoted, _) = await _admin.PostAsync("/api/v1/projects/scores/models/scorer/promote", """{"version": 2, "reason": "test"}""");
        Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);

        var (_, second) = await _viewer.PostAsync("/api/v1/projects/scores/models/scorer/predict", Rows);
        Assert.Equal(2, second.GetProperty("version").GetInt32());
        Assert.True(second.GetProperty("predictions")[0].GetProperty("probability").GetDouble() < 0.5);

        var (rolledBack, body) = await _admin.PostAsync("/api/v1/projects/scores/models/scorer/rollback", "{}");
        Assert.Equal(HttpStatusCode.OK, rolledBack.StatusCode);
        Assert.Equal(1, body.GetProperty("to").GetInt32()); // back along the chain of champions: v2 was promoted after v1
        var (_, third) = await _viewer.PostAsync("/api/v1/projects/scores/models/scorer/predict", Rows);
        Assert.Equal(1, third.GetProperty("version").GetInt32());
        var (pinned, fourth) = await _viewer.PostAsync("/api/v1/projects/scores/models/scorer/predict?version=2", Rows);
        Assert.Equal(HttpStatusCode.OK, pinned.StatusCode);
        Assert.Equal(2, fourth.GetProperty("version").GetInt32());
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("{\"x\": 1}", "JSON array")]
    [InlineData("[]", "between 1 and")]
    [InlineData("[{\"x\": \"high\"}]", "do not fit model scorer")]
    public async Task Bad_rows_are_a_400_naming_the_problem(string body, string message)
    {
        var (response, problem) = await _viewer.PostAsync("/api/v1/projects/scores/models/scorer/predict", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Security")]
    public async Task Online_scoring_writes_no_file_of_the_posted_rows()
    {
        // The rows reach DuckDB as a query parameter: nothing another local user could read or plant in a temp folder.
        static HashSet<string> Entries() => Directory.EnumerateFileSystemEntries(Path.GetTempPath(), "millrace-predict*").ToHashSet(StringComparer.Ordinal);
        var before = Entries();
        var (response, json) = await _viewer.PostAsync("/api/v1/projects/scores/models/scorer/predict", Rows);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, json.GetProperty("predictions").GetArrayLength());
        Assert.Empty(Entries().Except(before));
    }

    [Fact]
    public async Task A_value_that_does_not_convert_names_its_row_and_feature()
    {
        var (response, problem) = await _viewer.PostAsync("/api/v1/projects/scores/models/scorer/predict", """[{"x": 0.5}, {"x": "high", "tag": "a"}]""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("row 2, feature 'x': \"high\" is not a DOUBLE", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_model_is_a_404()
    {
        var (response, _) = await _viewer.PostAsync("/api/v1/projects/scores/models/nope/predict", Rows);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [Trait("Category", "Security")]
    [InlineData("caf\u00e9")]
    [InlineData("\u540d\u524d")]
    [InlineData("ctl\u0001x")]
    [InlineData("quote\"and\\back")]
    public async Task An_ignored_field_with_a_non_ascii_or_control_character_in_its_name_is_scored_not_a_500(string field)
    {
        var body = "[{\"x\": 0.9, \"tag\": \"a\", " + System.Text.Json.JsonSerializer.Serialize(field) + ": 1}]";
        var (response, json) = await _viewer.PostAsync("/api/v1/projects/scores/models/scorer/predict", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, json.GetProperty("predictions").GetArrayLength());
        var warning = string.Join(" ", response.Headers.GetValues("Warning"));
        Assert.All(warning, c => Assert.InRange(c, ' ', '~'));
        Assert.Contains("ignored fields that are not features", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_adds_each_rows_top_reasons_for_whoever_may_score()
    {
        var (response, json) = await _viewer.PostAsync("/api/v1/models/scorer/predict?projectId=scores&explain=3", Rows);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var predictions = json.GetProperty("predictions");
        foreach (var prediction in predictions.EnumerateArray())
        {
            var reasons = prediction.GetProperty("reasons").EnumerateArray().Select(r => (r.GetProperty("feature").GetString()!, r.GetProperty("contribution").GetDouble())).ToList();
            // Two features (x, tag): at most two reasons, largest first.
            Assert.InRange(reasons.Count, 1, 2);
            Assert.Subset(new HashSet<string> { "x", "tag" }, reasons.Select(r => r.Item1).ToHashSet());
            Assert.Equal(reasons.OrderByDescending(r => Math.Abs(r.Item2)), reasons);
        }
        // y = x > 0.5: a high x pushes towards true, a low one away from it.
        Assert.Equal(("x", true), (predictions[0].GetProperty("reasons")[0].GetProperty("feature").GetString(), predictions[0].GetProperty("reasons")[0].GetProperty("contribution").GetDouble() > 0));
        var (_, plain) = await _viewer.PostAsync("/api/v1/models/scorer/predict?projectId=scores", Rows);
        Assert.False(plain.GetProperty("predictions")[0].TryGetProperty("reasons", out _));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("21")]
    [InlineData("-1")]
    [InlineData("1000000")]
    [InlineData("lots")]
    [InlineData("2.5")]
    [InlineData("99999999999999999999")]
    public async Task An_explain_outside_1_to_20_is_a_400_with_a_detail(string explain)
    {
        var (response, problem) = await _viewer.PostAsync($"/api/v1/projects/scores/models/scorer/predict?explain={explain}", Rows);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith($"explain must be a whole number between 1 and 20 (the reasons per row), got '{explain[..Math.Min(20, explain.Length)]}", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
