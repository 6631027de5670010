using System.Net;

namespace Millrace.Server.Tests.Ui;

/// <summary>Published reports are served from the lake's reports folder only, as they are, under a strict policy.</summary>
[Collection(UiCollection.Name)]
public sealed class UiReportFileTests(UiServerFixture fixture)
{
    const string Page = "/ui/projects/uishop/reports/customers_by_region/2026-01-02/";

    [Fact]
    public async Task A_report_page_is_served_as_published_with_no_script_allowed()
    {
        using var client = await fixture.SignedInAsync(fixture.Viewer);
        var (response, body) = await client.GetAsync(Page);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(File.ReadAllText(fixture.Project.LakePath("reports/customers_by_region/2026-01-02/index.html")), body);
        Assert.Contains("<svg", body, StringComparison.Ordinal);
        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("script-src", policy, StringComparison.Ordinal);

        var (redirect, _) = await client.GetAsync(Page.TrimEnd('/'));
        Assert.Equal(Page, redirect.Headers.Location?.OriginalString);
        var (kpis, json) = await client.GetAsync(Page + "kpis.json");
        Assert.Equal(HttpStatusCode.OK, kpis.StatusCode);
        Assert.Contains("Customers", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paths_that_leave_the_reports_folder_are_not_served()
    {
        using var client = await fixture.SignedInAsync(fixture.Viewer);
        var outside = Path.Combine(fixture.Project.Directory, "secret.txt");
        File.WriteAllText(outside, "not for the web");
        var link = fixture.Project.LakePath("reports/customers_by_region/2026-01-02/leak.txt");
        File.CreateSymbolicLink(link, outside);
        var linkedFolder = fixture.Project.LakePath("reports/customers_by_region/2026-01-03");
        Directory.CreateSymbolicLink(linkedFolder, fixture.Project.Directory);
        File.WriteAllText(Path.Combine(fixture.Project.Directory, "index.html"), "<p>not a report</p>");
        try
        {
            foreach (var url in new[]
            {
                Page + "leak.txt",
                "/ui/projects/uishop/reports/customers_by_region/2026-01-03/",
                "/ui/projects/uishop/reports/customers_by_region/2026-01-03/millrace.yaml",
                Page + "..%2F..%2F..%2F..%2Fmillrace.yaml",
                Page + "%2E%2E%2Fkpis.json",
                Page + ".hidden",
                "/ui/projects/uishop/reports/customers_by_region/..%2F..%2F/",
                "/ui/projects/uishop/reports/customers_by_region/not-a-date/",
                "/ui/projects/uishop/reports/customers_by_region/2026-01-02/..%5C..%5Cmillrace.yaml",
                "/ui/projects/uishop/reports/%2E%2E/2026-01-02/",
            })
            {
                var (response, body) = await client.GetAsync(url);
                Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"{url} answered {(int)response.StatusCode}");
                Assert.DoesNotContain("not for the web", body, StringComparison.Ordinal);
                Assert.DoesNotContain("not a report", body, StringComparison.Ordinal);
                Assert.DoesNotContain("id: uishop", body, StringComparison.Ordinal);
            }
            var (_, list) = await client.GetAsync("/ui/projects/uishop/reports/customers_by_region");
            Assert.DoesNotContain("2026-01-03", list, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(link);
            Directory.Delete(linkedFolder);
        }
    }
}
