using System.Net;
using System.Text.Json;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Server.Tests.Ui;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>
/// What the server shows of stale marks and up-to-date runs: the run and dataset-version JSON (<c>stale</c>,
/// <c>staleReason</c>, status <c>up_to_date</c>), the run, dataset and report pages; and that a successful rerun
/// through the server's queue clears the marks.
/// </summary>
public sealed class StaleAndUpToDateTests : IAsyncLifetime
{
    const string Project = "stale";
    const string Reason = "late file raw/customers/late.csv landed for 2026-01-02";
    readonly ProjectFolder _project = new ProjectFolder(Project)
        .LakeFile("raw/customers/a.csv", "customer_id,region\n1,north\n2,south\n")
        .Workflow("ingest", """
            name: ingest
            steps:
              - { id: raw, type: read, path: "raw/customers/*.csv" }
              - { id: save, type: write, input: raw, dataset: customers }
            """)
        .Workflow("insights", """
            name: insights
            steps:
              - id: by_region
                type: sql
                inputs: [customers]
                sql: SELECT region, count(*) AS customers FROM customers GROUP BY region ORDER BY region
              - id: publish
                type: report
                name: regions
                title: Regions
                inputs: [by_region]
                sections:
                  - title: Overview
                    blocks:
                      - kpi: { label: Customers, sql: "SELECT sum(customers) FROM by_region" }
            """)
        .Pipeline("daily", "name: daily\nworkflows: [ingest, insights]\n");
    TestServer _server = null!;
    HttpClient _runner = null!;
    UiClient _ui = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(_project);
        var token = await _server.TokenAsync(Project, TokenRole.Runner);
        _runner = _server.Client(token);
        _ui = new UiClient(_server.BaseAddress);
        await _ui.SignInAsync(token);
    }

    public async Task DisposeAsync()
    {
        _ui.Dispose();
        _runner.Dispose();
        await _server.DisposeAsync();
        _project.Dispose();
    }

    async Task<JsonElement> RunDailyAsync()
    {
        var (response, accepted) = await _runner.PostAsync($"/api/v1/projects/{Project}/pipelines/daily/runs", """{"parameters":{"run.date":"2026-01-02"}}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await TestServer.WaitForRunAsync(_runner, accepted.GetProperty("statusUrl").GetString()!);
    }

    [Fact]
    public async Task A_stale_run_shows_stale_in_the_api_and_the_ui_until_a_rerun_succeeds()
    {
        var first = (await RunDailyAsync()).GetProperty("run");
        Assert.Equal("succeeded", first.GetProperty("status").GetString());
        var runId = first.GetProperty("id").GetString()!;
        Assert.Single(await _server.Host(Project).Store.MarkStaleAsync(Project, "daily", new DateOnly(2026, 1, 2), Reason, CancellationToken.None));

        var run = (await _runner.GetJsonAsync($"/api/v1/projects/{Project}/runs/{runId}")).GetProperty("run");
        Assert.True(run.GetProperty("stale").GetBoolean());
        Assert.Equal(Reason, run.GetProperty("staleReason").GetString());
        var listed = (await _runner.GetJsonAsync($"/api/v1/projects/{Project}/runs")).GetProperty("items").EnumerateArray().Single(r => r.GetProperty("id").GetString() == runId);
        Assert.True(listed.GetProperty("stale").GetBoolean());
        var version = await _runner.GetJsonAsync($"/api/v1/projects/{Project}/datasets/customers/versions/1");
        Assert.Equal((true, Reason), (version.GetProperty("stale").GetBoolean(), version.GetProperty("staleReason").GetString()));
        Assert.True((await _runner.GetJsonAsync($"/api/v1/projects/{Project}/datasets")).EnumerateArray().Single().GetProperty("stale").GetBoolean());

        var (_, runPage) = await _ui.GetAsync($"/ui/projects/{Project}/runs/{runId}");
        Assert.Contains("id=\"run-stale\"", runPage, StringComparison.Ordinal);
        Assert.Contains(Reason, runPage, StringComparison.Ordinal);
        var (_, datasetPage) = await _ui.GetAsync($"/ui/projects/{Project}/datasets/customers");
        Assert.Contains("id=\"version-stale\"", datasetPage, StringComparison.Ordinal);
        var (_, history) = await _ui.GetAsync($"/ui/projects/{Project}/reports/regions");
        Assert.Contains("badge warning stale", history, StringComparison.Ordinal);
        var (report, reportPage) = await _ui.GetAsync($"/ui/projects/{Project}/reports/regions/2026-01-02/");
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.Contains("<b>This report is stale</b>", reportPage, StringComparison.Ordinal);
        Assert.Contains(Reason, reportPage, StringComparison.Ordinal);

        // The rerun after the late file: its success clears the mark.
        _project.LakeFile("raw/customers/late.csv", "customer_id,region\n3,north\n");
        var rerun = (await RunDailyAsync()).GetProperty("run");
        Assert.Equal("succeeded", rerun.GetProperty("status").GetString());
        Assert.False((await _runner.GetJsonAsync($"/api/v1/projects/{Project}/runs/{runId}")).GetProperty("run").GetProperty("stale").GetBoolean());
        var (_, cleared) = await _ui.GetAsync($"/ui/projects/{Project}/runs/{runId}");
        Assert.DoesNotContain("id=\"run-stale\"", cleared, StringComparison.Ordinal);
        Assert.Contains($"until run <a href=\"/ui/projects/{Project}/runs/{rerun.GetProperty("id").GetString()}\"", cleared, StringComparison.Ordinal);
        var (_, freshReport) = await _ui.GetAsync($"/ui/projects/{Project}/reports/regions/2026-01-02/");
        Assert.DoesNotContain("This report is stale", freshReport, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_with_the_same_inputs_is_up_to_date_in_the_api_and_the_ui()
    {
        var first = (await RunDailyAsync()).GetProperty("run").GetProperty("id").GetString();
        var again = await RunDailyAsync();

        Assert.Equal("up_to_date", again.GetProperty("run").GetProperty("status").GetString());
        Assert.All(again.GetProperty("workflows").EnumerateArray(), w => Assert.Equal("up_to_date", w.GetProperty("status").GetString()));
        Assert.Contains($"same inputs as run {first}", again.GetProperty("steps")[0].GetProperty("details").GetProperty("up_to_date").GetString(), StringComparison.Ordinal);
        var filtered = (await _runner.GetJsonAsync($"/api/v1/projects/{Project}/runs?status=up_to_date")).GetProperty("items");
        Assert.Equal(again.GetProperty("run").GetProperty("id").GetString(), Assert.Single(filtered.EnumerateArray()).GetProperty("id").GetString());
        var (_, page) = await _ui.GetAsync($"/ui/projects/{Project}/runs/{again.GetProperty("run").GetProperty("id").GetString()}");
        Assert.Contains("data-up-to-date=\"ingest\"", page, StringComparison.Ordinal);
        Assert.Contains("<span class=\"badge uptodate\">up to date</span>", page, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Security")]
    public async Task A_stale_reason_with_markup_is_shown_as_text_on_every_page()
    {
        var runId = (await RunDailyAsync()).GetProperty("run").GetProperty("id").GetString();
        const string Hostile = "late <script>alert('x')</script> & <b>bold</b>";
        await _server.Host(Project).Store.MarkStaleAsync(Project, "daily", new DateOnly(2026, 1, 2), Hostile, CancellationToken.None);

        foreach (var url in new[] { $"/ui/projects/{Project}/runs/{runId}", $"/ui/projects/{Project}/datasets/customers", $"/ui/projects/{Project}/reports/regions", $"/ui/projects/{Project}/reports/regions/2026-01-02/" })
        {
            var (response, page) = await _ui.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain("<script>alert", page, StringComparison.Ordinal);
            Assert.DoesNotContain("<b>bold</b>", page, StringComparison.Ordinal);
            Assert.Contains("&lt;b&gt;bold&lt;/b&gt;", page, StringComparison.Ordinal);
        }
        Assert.Equal(Hostile, (await _runner.GetJsonAsync($"/api/v1/projects/{Project}/runs/{runId}")).GetProperty("run").GetProperty("staleReason").GetString());
    }
}
