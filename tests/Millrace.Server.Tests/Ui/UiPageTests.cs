using System.Net;
using Millrace.Engine;
using Millrace.Storage;

namespace Millrace.Server.Tests.Ui;

/// <summary>Every page renders for a viewer, encodes what it shows, and forbids script.</summary>
[Collection(UiCollection.Name)]
public sealed class UiPageTests(UiServerFixture fixture)
{
    [Fact]
    public async Task Every_page_renders_for_a_viewer()
    {
        using var client = await fixture.SignedInAsync(fixture.Viewer);
        var host = fixture.Server.Host(UiProject.Id);
        var run = (await host.Store.FindRunsAsync(new RunFilter(UiProject.Id, UiProject.Daily, RunStatus.Succeeded), new Page(0, 1), CancellationToken.None)).Single();
        var pages = new Dictionary<string, string>
        {
            ["/ui/projects"] = "Projects",
            ["/ui/projects/uishop/"] = "Latest runs",
            ["/ui/projects/uishop/pipelines"] = "training",
            ["/ui/projects/uishop/pipelines/daily"] = "<svg",
            ["/ui/projects/uishop/runs"] = run.Id,
            ["/ui/projects/uishop/runs?pipeline=daily&status=succeeded&runDate=2026-01-02"] = "2026-01-02",
            [$"/ui/projects/uishop/runs/{run.Id}"] = "customers@v",
            ["/ui/projects/uishop/schedules"] = "0 6 * * *",
            ["/ui/projects/uishop/models"] = "scorer",
            ["/ui/projects/uishop/models/scorer"] = "Champion history",
            ["/ui/projects/uishop/datasets"] = "customers",
            ["/ui/projects/uishop/datasets/customers"] = "north",
            ["/ui/projects/uishop/datasets/customers?version=1"] = "Preview of v1",
            ["/ui/projects/uishop/anomalies"] = "expectation",
            ["/ui/projects/uishop/reports"] = "Customers by region",
            ["/ui/projects/uishop/reports/customers_by_region"] = "2026-01-01",
        };
        foreach (var (url, expected) in pages)
        {
            var (response, body) = await client.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url} answered {(int)response.StatusCode}: {body}");
            Assert.True(body.Contains(expected, StringComparison.Ordinal), $"{url} does not show {expected}: {body}");
            Assert.StartsWith("text/html", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        }
        foreach (var missing in new[] { "/ui/projects/uishop/runs/nope", "/ui/projects/uishop/models/nope", "/ui/projects/uishop/datasets/nope", "/ui/projects/uishop/pipelines/nope", "/ui/projects/uishop/reports/nope" })
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(missing)).Response.StatusCode);
    }

    [Fact]
    public async Task The_pipeline_page_shows_the_last_14_dates_with_status_badges_and_run_links()
    {
        var host = fixture.Server.Host(UiProject.Id);
        var today = Millrace.Engine.Dates.PipelineDates.Today(host.Clock);
        var run = await host.Runner.RunAsync(new RunRequest(UiProject.Tricky, [new("region", "north"), new("run.date", today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture))]));
        using var client = await fixture.SignedInAsync(fixture.Viewer);

        var (response, page) = await client.GetAsync($"/ui/projects/uishop/pipelines/{UiProject.Tricky}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var dates = page[page.IndexOf("<h2>Dates", StringComparison.Ordinal)..page.IndexOf("<h2>Recent runs", StringComparison.Ordinal)];
        Assert.Equal(14, dates.Split("<tr><td class=\"nowrap\">").Length - 1);
        Assert.Contains($"<a class=\"mono\" href=\"/ui/projects/uishop/runs/{run.Id}\">{run.Id}</a>", dates, StringComparison.Ordinal);
        Assert.Contains($"<span class=\"badge {run.Status.ToString().ToLowerInvariant()}\">", dates, StringComparison.Ordinal);
        // Newest first: today's row comes before yesterday's, which has no run.
        Assert.True(dates.IndexOf(today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            < dates.IndexOf(today.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
    }

    [Fact]
    public async Task What_pages_show_is_html_encoded()
    {
        var host = fixture.Server.Host(UiProject.Id);
        var hostile = "<img src=x onerror=alert(1)>";
        var run = await host.Runner.RunAsync(new RunRequest(UiProject.Tricky, [new("region", hostile)]));
        using var client = await fixture.SignedInAsync(fixture.Viewer);

        var (_, pipelines) = await client.GetAsync("/ui/projects/uishop/pipelines");
        Assert.Contains("Looks &lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;alert(&#39;tricky&#39;)&lt;/script&gt;", pipelines, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", pipelines, StringComparison.Ordinal);
        var (_, page) = await client.GetAsync($"/ui/projects/uishop/runs/{run.Id}");
        Assert.Contains("region=&lt;img src=x onerror=alert(1)&gt;", page, StringComparison.Ordinal);
        Assert.DoesNotContain(hostile, page, StringComparison.Ordinal);
        var (_, filtered) = await client.GetAsync("/ui/projects/uishop/anomalies?runId=%22%3E%3Cscript%3E");
        Assert.Contains("value=\"&quot;&gt;&lt;script&gt;\"", filtered, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_forbid_script_framing_and_caching()
    {
        using var client = await fixture.SignedInAsync(fixture.Viewer);
        var (response, body) = await client.GetAsync("/ui/projects/uishop/");
        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("script-src", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("<script", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", body.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }
}
