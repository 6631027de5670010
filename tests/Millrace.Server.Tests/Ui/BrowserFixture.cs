using Microsoft.Playwright;

namespace Millrace.Server.Tests.Ui;

/// <summary>
/// One headless Chromium for a test class: Debian's <c>/usr/bin/chromium</c> (or <c>MILLRACE_TEST_CHROMIUM</c>),
/// driven by Playwright. Playwright's own browser download is never used. Without the browser the tests say they are
/// skipped (<c>./test.sh</c> installs it).
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    static readonly string[] Arguments =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
    ];

    IPlaywright? _playwright;

    /// <summary>The browser's executable.</summary>
    public static string Executable => Environment.GetEnvironmentVariable("MILLRACE_TEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Why the browser tests cannot run here, or null.</summary>
    public string? Missing { get; private set; }

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where screenshots of failed tests go: artifacts/test-results/screenshots/ of the repository.</summary>
    public static string ScreenshotFolder
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Millrace.sln"))) directory = directory.Parent;
            return Path.Combine(directory?.FullName ?? Path.GetTempPath(), "artifacts", "test-results", "screenshots");
        }
    }

    public async Task InitializeAsync()
    {
        if (!File.Exists(Executable))
        {
            Missing = $"no Chromium at {Executable} (./test.sh installs Debian's chromium; or set MILLRACE_TEST_CHROMIUM)";
            return;
        }
        // The driver must never try to download its own browsers: the tests use the system's Chromium.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Executable,
            Headless = true,
            Args = Arguments,
            Timeout = 60_000,
        });
    }

    /// <summary>A fresh browser context (its own cookies) with a desktop-sized page.</summary>
    public async Task<IPage> NewPageAsync(Uri baseAddress)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString().TrimEnd('/'),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        _playwright?.Dispose();
    }
}
