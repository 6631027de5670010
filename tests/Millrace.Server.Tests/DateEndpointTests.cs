using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>
/// <c>GET …/pipelines/{pipeline}/dates</c>: one status per run date, paged, with problem details for bad ranges; and
/// the backfill's <c>only</c>, planned from the same statuses.
/// </summary>
public sealed class DateEndpointTests : IAsyncLifetime
{
    readonly ProjectFolder _churn = Samples.Prediction(new ProjectFolder("churn"));
    readonly ProjectFolder _other = Samples.Prediction(new ProjectFolder("other"));
    // Today is 2026-03-05 by the server's clock; no run starts (MaxConcurrentRuns = 0), so what is queued stays queued.
    readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 3, 5, 12, 0, 0, TimeSpan.Zero));
    TestServer _server = null!;
    HttpClient _viewer = null!;

    const string Dates = "/api/v1/projects/churn/pipelines/prediction/dates";

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync([_churn.Directory, _other.Directory], o => o with { Clock = _clock, MaxConcurrentRuns = 0 });
        _viewer = _server.Client(await _server.TokenAsync("churn", TokenRole.Viewer));
        var store = _server.Host("churn").Store;
        foreach (var (id, day, status) in new[] { ("r-ok", 1, RunStatus.Succeeded), ("r-failed", 2, RunStatus.Failed) })
            await store.CreateRunAsync(new Run
            {
                Id = id, ProjectId = "churn", Target = "prediction", TargetKind = "pipeline", Trigger = TriggerKind.Schedule, Status = status,
                Parameters = [], RunDate = new DateOnly(2026, 3, day), DefinitionsHash = "h", CreatedAt = _clock.GetUtcNow(),
                StartedAt = _clock.GetUtcNow(), EndedAt = _clock.GetUtcNow().AddSeconds(3), Error = status == RunStatus.Failed ? "boom" : null,
            }, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        _viewer.Dispose();
        await _server.DisposeAsync();
        _churn.Dispose();
        _other.Dispose();
    }

    static IEnumerable<string> Statuses(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("status").GetString()!);

    static async Task<string> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString()!;
    }

    [Fact]
    public async Task Dates_lists_one_status_per_date_with_the_latest_run_and_backfill_only_queues_the_failed_and_missing_ones()
    {
        var page = await _viewer.GetJsonAsync($"{Dates}?from=2026-03-01&to=2026-03-04");
        Assert.Equal(["succeeded", "failed", "missing", "missing"], Statuses(page));
        var failed = page.GetProperty("items")[1];
        Assert.Equal(("2026-03-02", "r-failed", "boom"), (failed.GetProperty("date").GetString(), failed.GetProperty("latestRun").GetProperty("id").GetString(),
            failed.GetProperty("latestRun").GetProperty("error").GetString()));
        Assert.Equal(JsonValueKind.Null, page.GetProperty("nextFrom").ValueKind);

        using var runner = _server.Client(await _server.TokenAsync("churn", TokenRole.Runner));
        var (response, backfill) = await runner.PostAsync("/api/v1/projects/churn/pipelines/prediction/backfill",
            """{"from": "2026-03-01", "to": "2026-03-04", "only": "failed,missing"}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(3, backfill.GetProperty("runs").GetArrayLength());
        Assert.Equal(["2026-03-01"], backfill.GetProperty("skippedDates").EnumerateArray().Select(d => d.GetString()));

        Assert.Equal(["succeeded", "queued", "queued", "queued"], Statuses(await _viewer.GetJsonAsync($"{Dates}?from=2026-03-01&to=2026-03-04")));
    }

    [Fact]
    public async Task Without_a_range_the_dates_are_the_last_14_up_to_today_by_the_servers_clock()
    {
        var page = await _viewer.GetJsonAsync(Dates);
        Assert.Equal(("2026-02-20", "2026-03-05", 14), (page.GetProperty("from").GetString(), page.GetProperty("to").GetString(), page.GetProperty("items").GetArrayLength()));
        var ending = await _viewer.GetJsonAsync($"{Dates}?to=2026-03-02");
        Assert.Equal("2026-02-17", ending.GetProperty("from").GetString());
    }

    [Fact]
    public async Task A_long_range_comes_a_page_at_a_time_and_nextFrom_reads_the_rest()
    {
        var seen = new List<string>();
        var url = $"{Dates}?from=2025-03-06&to=2026-03-05&limit=100";
        for (var pages = 0; ; pages++)
        {
            Assert.True(pages < 5, "too many pages");
            var page = await _viewer.GetJsonAsync(url);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("date").GetString()!));
            if (page.GetProperty("nextFrom").GetString() is not { } next) break;
            url = $"{Dates}?from={next}&to=2026-03-05&limit=100";
        }
        Assert.Equal(365, seen.Count);
        Assert.Equal(seen.Distinct().Order(StringComparer.Ordinal), seen);
        Assert.Equal(("2025-03-06", "2026-03-05"), (seen[0], seen[^1]));
        // Without a limit a page holds a year (366 dates).
        Assert.Equal(366, (await _viewer.GetJsonAsync($"{Dates}?from=2016-03-06&to=2026-03-05")).GetProperty("items").GetArrayLength());
    }

    [Theory]
    [Trait("Category", "Security")]
    [InlineData("?from=2026-02-30", "'from' must be a date yyyy-MM-dd, got '2026-02-30'")]
    [InlineData("?to=03/05/2026", "'to' must be a date yyyy-MM-dd, got '03/05/2026'")]
    [InlineData("?from=2026-03-01%27%3B%20DROP%20TABLE%20runs%3B--", "'from' must be a date yyyy-MM-dd")]
    [InlineData("?from=2026-03-05&to=2026-03-01", "the range ends (2026-03-01) before it starts (2026-03-05)")]
    [InlineData("?from=0001-01-01&to=9999-12-31", "a range covers at most 3660 dates")]
    [InlineData("?from=2016-01-01&to=2026-01-08", "a range covers at most 3660 dates; 2016-01-01 to 2026-01-08 is 3661")]
    [InlineData("?limit=0", "limit must be a whole number from 1 to 366, got '0'")]
    [InlineData("?limit=100000", "limit must be a whole number from 1 to 366")]
    [InlineData("?limit=-1", "limit must be a whole number from 1 to 366")]
    public async Task Bad_dates_reversed_and_huge_ranges_and_bad_limits_are_400_problems(string query, string detail)
    {
        Assert.Contains(detail, await ProblemAsync(await _viewer.GetAsync(Dates + query), HttpStatusCode.BadRequest), StringComparison.Ordinal);
    }

    [Theory]
    [Trait("Category", "Security")]
    [InlineData("weekly")]
    [InlineData("..%2F..%2Fmillrace.yaml")]
    [InlineData("prediction%2F..%2Fprediction")]
    [InlineData("prediction%5C..")]
    public async Task An_unknown_pipeline_or_path_characters_in_its_name_are_404_problems(string name)
    {
        var detail = await ProblemAsync(await _viewer.GetAsync($"/api/v1/projects/churn/pipelines/{name}/dates"), HttpStatusCode.NotFound);
        Assert.Contains("no pipeline", detail, StringComparison.Ordinal);
    }

    [Theory]
    [Trait("Category", "Security")]
    [InlineData("prediction%00")]
    [InlineData("%2E%2E")]
    public async Task A_name_the_server_stops_before_the_route_gets_a_4xx_and_no_dates(string name)
    {
        // A NUL is refused by Kestrel (400); a dot segment is resolved by the client, so no route matches (404).
        var response = await _viewer.GetAsync($"/api/v1/projects/churn/pipelines/{name}/dates");
        Assert.InRange((int)response.StatusCode, 400, 499);
        Assert.DoesNotContain("\"items\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Security")]
    public async Task Without_a_token_it_is_401_and_with_another_projects_token_403()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Anonymous.GetAsync(Dates)).StatusCode);
        using var other = _server.Client(await _server.TokenAsync("other", TokenRole.Admin));
        Assert.Contains("for project 'other', not 'churn'", await ProblemAsync(await other.GetAsync(Dates), HttpStatusCode.Forbidden), StringComparison.Ordinal);
    }

    [Theory]
    [Trait("Category", "Security")]
    [InlineData("""{"from": "2026-03-01", "to": "2026-03-04", "only": "failed,everything"}""", "'only': unknown date status 'everything'; choose from missing, waiting, succeeded")]
    [InlineData("""{"from": "2026-03-01", "to": "2026-03-04", "only": "running"}""", "unknown date status 'running'")]
    [InlineData("""{"from": "2026-03-01", "to": "2026-03-04", "only": "failed", "rerunSucceeded": true}""", "'only' and 'rerunSucceeded' do not combine")]
    [InlineData("""{"from": "2026-03-01", "to": "2026-03-04", "only": 3}""", "only")]
    public async Task A_backfill_with_a_bad_only_is_a_400_problem_and_queues_nothing(string body, string detail)
    {
        using var runner = _server.Client(await _server.TokenAsync("churn", TokenRole.Runner));
        var (response, problem) = await runner.PostAsync("/api/v1/projects/churn/pipelines/prediction/backfill", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, (await _server.Host("churn").Store.FindRunsAsync(new RunFilter("churn"), new Page(), CancellationToken.None)).Count);
    }
}
