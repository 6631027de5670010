using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Millrace.Server.Scheduling;
using Millrace.Storage;
using static Microsoft.Playwright.Assertions;

namespace Millrace.Server.Tests.Ui;

/// <summary>
/// The web UI in a real browser (headless Chromium driven by Playwright): sign in, every page, a run started from the
/// UI watched until it succeeds, a schedule paused and resumed, a model promoted and rolled back (and refused to a
/// viewer), a report's chart drawn. A failing test leaves a screenshot in artifacts/test-results/screenshots/.
/// </summary>
[Collection(UiCollection.Name)]
public sealed class UiBrowserTests(UiServerFixture fixture, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    const string Project = "/ui/projects/uishop";

    [SkippableFact]
    public async Task Signing_in_opens_every_page_and_signing_out_closes_them()
    {
        await InBrowserAsync(async page =>
        {
            await page.GotoAsync(Project + "/runs");
            await Expect(page).ToHaveURLAsync(new Regex("/ui/login\\?next="));
            await Expect(page.Locator("h1")).ToHaveTextAsync("Sign in");
            await page.FillAsync("#token", fixture.Viewer);
            await page.ClickAsync("button[type=submit]");
            await Expect(page).ToHaveURLAsync(new Regex("/ui/projects/uishop/runs$"));
            await Expect(page.Locator(".flash.ok")).ToContainTextAsync("Signed in to Test shop as viewer");
            Assert.True(await page.Locator("table.runs tbody tr").CountAsync() >= 4);

            await Nav(page, "Pipelines", "Pipelines");
            await page.ClickAsync("a:text-is('daily')");
            await Expect(page.Locator("h1")).ToHaveTextAsync("Pipeline daily");
            // ingest: 4 steps; insights: 2 steps and the dataset it reads.
            await Expect(page.Locator(".dag svg g.node")).ToHaveCountAsync(7);
            await Expect(page.Locator(".dag svg g.node.dataset")).ToHaveCountAsync(1);
            await Expect(page.Locator(".dag svg path.edge")).ToHaveCountAsync(5);
            await Expect(page.Locator("input[name=workflowParameters]")).ToHaveCountAsync(0);
            await Expect(page.Locator("main")).ToContainTextAsync("0 6 * * *");

            await Nav(page, "Runs", "Runs");
            await page.SelectOptionAsync("select[name=pipeline]", "training");
            await page.ClickAsync("button:text('Filter')");
            await Expect(page.Locator("table.runs tbody tr")).ToHaveCountAsync(2);
            await page.Locator("table.runs tbody tr a.mono").First.ClickAsync();
            await Expect(page.Locator("h1")).ToContainTextAsync("Run ");
            await Expect(page.Locator("#run-status")).ToHaveTextAsync("succeeded");
            await Expect(page.Locator("table.steps tbody tr")).ToHaveCountAsync(3);
            await Expect(page.Locator("main")).ToContainTextAsync("model scorer@v");

            await Nav(page, "Schedules", "Schedules");
            await Expect(page.Locator("tr[data-pipeline=daily] .state")).ToHaveTextAsync("active");

            await Nav(page, "Models", "Models");
            await page.ClickAsync("a:text-is('scorer')");
            await Expect(page.Locator("table.versions tbody tr")).ToHaveCountAsync(2);
            await Expect(page.Locator("table.versions th:text-is('auc')")).ToHaveCountAsync(1);

            await Nav(page, "Datasets", "Datasets");
            await page.ClickAsync("a:text-is('customers')");
            await Expect(page.Locator("h1")).ToHaveTextAsync("Dataset customers");
            Assert.True(await page.Locator("table.preview tbody tr").CountAsync() >= 3);
            await Expect(page.Locator("table.schema")).ToContainTextAsync("customer_id");

            await Nav(page, "Anomalies", "Anomalies");
            await Expect(page.Locator("table.anomalies")).ToContainTextAsync("expectation");

            await Nav(page, "Reports", "Reports");
            await Expect(page.Locator("table.reports")).ToContainTextAsync("Customers by region");

            await page.ClickAsync("button:text('Sign out')");
            await Expect(page).ToHaveURLAsync(new Regex("/ui/login$"));
            await page.GotoAsync(Project + "/models");
            await Expect(page).ToHaveURLAsync(new Regex("/ui/login\\?next="));
        });
    }

    [SkippableFact]
    public async Task A_run_started_from_the_pipeline_page_is_watched_until_it_succeeds()
    {
        await InBrowserAsync(async page =>
        {
            await SignInAsync(page, fixture.Runner);
            await page.GotoAsync(Project + "/pipelines/daily");
            await page.FillAsync("input[name=workflowParameters]", "--var region = north --var run.date=2026-01-05");
            await page.ClickAsync("button[name=run]");
            await Expect(page).ToHaveURLAsync(new Regex("/ui/projects/uishop/runs/[0-9a-f-]+$"));
            await Expect(page.Locator(".flash.ok")).ToContainTextAsync("is queued");
            // The page reloads itself while the run is queued or running.
            await Expect(page.Locator("#run-status")).ToHaveTextAsync("succeeded", new() { Timeout = 90_000 });
            await Expect(page.Locator("main")).ToContainTextAsync("region=north");
            await Expect(page.Locator("table.steps tbody tr")).ToHaveCountAsync(6);
            await Expect(page.Locator("table.steps .badge.succeeded")).ToHaveCountAsync(6);
            await Expect(page.Locator(".dag g.node[data-status=succeeded]")).ToHaveCountAsync(6);
            await Expect(page.Locator("main")).ToContainTextAsync("report Customers by region");
            await Expect(page.Locator("pre.log")).ToContainTextAsync("customers_by_region");
            await Expect(page.Locator("meta[http-equiv=refresh]")).ToHaveCountAsync(0);
        });
    }

    [SkippableFact]
    public async Task An_admin_pauses_and_resumes_a_schedule_and_a_runner_may_only_run_it_now()
    {
        await InBrowserAsync(async page =>
        {
            await SignInAsync(page, fixture.Admin);
            await page.GotoAsync(Project + "/schedules");
            var row = page.Locator("tr[data-pipeline=daily]");
            await row.Locator("button[name=pause]").ClickAsync();
            await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("The schedule of daily is paused.");
            await Expect(row.Locator(".state")).ToHaveTextAsync("paused");
            Assert.True(await PausedAsync());
            await row.Locator("button[name=resume]").ClickAsync();
            await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("The schedule of daily is resumed.");
            await Expect(row.Locator(".state")).ToHaveTextAsync("active");
            Assert.False(await PausedAsync());
        });
        await InBrowserAsync(async page =>
        {
            await SignInAsync(page, fixture.Runner);
            await page.GotoAsync(Project + "/schedules");
            var row = page.Locator("tr[data-pipeline=daily]");
            await Expect(row.Locator("button[name=pause]")).ToBeDisabledAsync();
            await row.Locator("button[name=run-now]").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/ui/projects/uishop/runs/[0-9a-f-]+$"));
            await Expect(page.Locator("#run-status")).ToHaveTextAsync("succeeded", new() { Timeout = 90_000 });
        }, "runner");
    }

    [SkippableFact]
    public async Task An_admin_promotes_and_rolls_back_a_model_and_a_viewer_is_refused()
    {
        await InBrowserAsync(async page =>
        {
            await SignInAsync(page, fixture.Admin);
            await page.GotoAsync(Project + "/models/scorer");
            await Expect(page.Locator("tr[data-version='1'] .aliases")).ToContainTextAsync("champion");
            await page.Locator("tr[data-version='2'] button[name=promote]").ClickAsync();
            await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("scorer@champion: v1 → v2.");
            await Expect(page.Locator("tr[data-version='2'] .aliases")).ToContainTextAsync("champion");
            await Expect(page.Locator("tr[data-version='1'] .aliases")).Not.ToContainTextAsync("champion");

            await page.ClickAsync("button[name=rollback]");
            await Expect(page.Locator(".flash.ok")).ToHaveTextAsync("scorer@champion rolled back: v2 → v1.");
            await Expect(page.Locator("tr[data-version='1'] .aliases")).ToContainTextAsync("champion");
            await Expect(page.Locator("table.history tbody tr").First).ToContainTextAsync("rollback from v2");
            Assert.Equal(1, await ChampionAsync());
        });
        await InBrowserAsync(async page =>
        {
            await SignInAsync(page, fixture.Viewer);
            await page.GotoAsync(Project + "/models/scorer");
            var promote = page.Locator("tr[data-version='2'] button[name=promote]");
            await Expect(promote).ToBeDisabledAsync();
            await Expect(page.Locator("button[name=rollback]")).ToBeDisabledAsync();
            await Expect(page.Locator("main")).ToContainTextAsync("Promoting and rolling back needs a token with the admin role");
            // The server refuses whatever the page allows: enable the button by hand and submit.
            await promote.EvaluateAsync("button => button.disabled = false");
            await promote.ClickAsync();
            await Expect(page.Locator("h1")).ToHaveTextAsync("Not allowed");
            await Expect(page.Locator("main")).ToContainTextAsync("has the role viewer, which may not do this; it needs admin");
            Assert.Equal(1, await ChampionAsync());
        }, "viewer", refusalExpected: true);
    }

    [SkippableFact]
    public async Task A_published_report_opens_and_its_chart_is_drawn()
    {
        await InBrowserAsync(async page =>
        {
            await SignInAsync(page, fixture.Viewer);
            await page.GotoAsync(Project + "/reports");
            await page.ClickAsync("a:text-is('customers_by_region')");
            await Expect(page.Locator("h1")).ToHaveTextAsync("Report customers_by_region");
            await page.Locator("a.open-report").First.ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/reports/customers_by_region/\\d{4}-\\d{2}-\\d{2}/$"));
            await Expect(page).ToHaveTitleAsync(new Regex("Customers by region"));
            var chart = page.Locator("svg").First;
            await Expect(chart).ToBeVisibleAsync();
            var box = await chart.BoundingBoxAsync();
            Assert.True(box is { Width: > 100, Height: > 100 }, $"the chart is {box?.Width}x{box?.Height}");
            var paths = chart.Locator("path");
            Assert.True(await paths.CountAsync() > 0, "the chart has no paths");
            await Expect(paths.First).ToBeVisibleAsync();
            await Expect(page.Locator("body")).ToContainTextAsync("north");
        });
    }

    async Task<bool> PausedAsync() =>
        (await fixture.Server.App.Services.GetRequiredService<PipelineScheduler>().ListAsync(fixture.Server.Host(UiProject.Id), CancellationToken.None))
            .Single(s => s.Pipeline == UiProject.Daily).Paused;

    async Task<int?> ChampionAsync() =>
        (await fixture.Server.Host(UiProject.Id).Store.GetAliasesAsync(UiProject.Model, CancellationToken.None)).TryGetValue("champion", out var v) ? v : null;

    static async Task Nav(IPage page, string link, string heading)
    {
        await page.ClickAsync($"nav.sections a:text-is('{link}')");
        await Expect(page.Locator("h1")).ToHaveTextAsync(heading);
    }

    async Task SignInAsync(IPage page, string token)
    {
        await page.GotoAsync("/ui/login");
        await page.FillAsync("#token", token);
        await page.ClickAsync("button[type=submit]");
        await Expect(page).ToHaveURLAsync(new Regex("/ui/projects/uishop/$"));
    }

    /// <summary>
    /// Runs <paramref name="test"/> in a fresh browser context; on failure saves a full-page screenshot, and fails on
    /// console errors (a blocked resource or a broken page shows there first).
    /// </summary>
    async Task InBrowserAsync(Func<IPage, Task> test, string part = "", bool refusalExpected = false, [CallerMemberName] string name = "")
    {
        Skip.If(browser.Missing is not null, browser.Missing);
        var page = await browser.NewPageAsync(fixture.Server.BaseAddress);
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !(refusalExpected && message.Text.Contains("status of 403", StringComparison.Ordinal))) errors.Add(message.Text);
        };
        page.PageError += (_, error) => errors.Add(error);
        try
        {
            await test(page);
            Assert.True(errors.Count == 0, "the browser reported errors: " + string.Join("; ", errors));
        }
        catch (Exception)
        {
            var file = Path.Combine(BrowserFixture.ScreenshotFolder, $"{nameof(UiBrowserTests)}.{name}{(part.Length > 0 ? "." + part : "")}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            try { await page.ScreenshotAsync(new() { Path = file, FullPage = true }); }
            catch (PlaywrightException) { /* the page is gone; the test's own error says why */ }
            throw;
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }
}
