using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Millrace.Cli.Tests.TestSupport;

namespace Millrace.Cli.Tests.Commands;

/// <summary>`millrace quickstart` without --no-serve ends by serving the sample: its printed address opens the web UI's sign-in, and its token signs in.</summary>
public sealed partial class QuickstartServeTests
{
    [GeneratedRegex(@"^Web UI: open (http://127\.0\.0\.1:\d+)/ in a browser and sign in with that token")]
    private static partial Regex WebUiLine();

    [GeneratedRegex(@"^\s+(mr_[0-9a-f]{16}_\S+)$")]
    private static partial Regex TokenLine();

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();

    [Fact]
    public async Task The_printed_address_opens_the_web_ui_and_the_printed_token_signs_in()
    {
        using var directory = new TempDirectory();
        var root = Path.Combine(directory.Path, "qs");
        using var process = Shell.Start(null, "quickstart", "--days", "2", "--customers", "400", "--dir", root, "--urls", "http://127.0.0.1:0");
        var output = new System.Text.StringBuilder();
        string? address = null, token = null;
        var limit = Stopwatch.StartNew();
        try
        {
            while (address is null && limit.Elapsed < TimeSpan.FromMinutes(3))
            {
                var line = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("quickstart exited: " + output + await process.StandardError.ReadToEndAsync());
                output.AppendLine(line);
                if (TokenLine().Match(line) is { Success: true } t) token = t.Groups[1].Value;
                if (WebUiLine().Match(line) is { Success: true } m) address = m.Groups[1].Value;
            }
            Assert.True(address is not null && token is not null, output.ToString());

            var cookies = new CookieContainer();
            using var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = new Uri(address!) };
            var login = await client.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
            Assert.EndsWith("/ui/login", login.RequestMessage!.RequestUri!.AbsolutePath, StringComparison.Ordinal);
            var page = await login.Content.ReadAsStringAsync();
            Assert.Contains("<h1>Sign in</h1>", page, StringComparison.Ordinal);

            using var form = new FormUrlEncodedContent([new("csrf", CsrfField().Match(page).Groups[1].Value), new("token", token!), new("next", "")]);
            var signedIn = await client.PostAsync("/ui/login", form);
            Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
            Assert.Equal("/ui/projects/churn/", signedIn.RequestMessage!.RequestUri!.AbsolutePath);
            var overview = await signedIn.Content.ReadAsStringAsync();
            Assert.Contains("Signed in to Customer churn as runner.", overview, StringComparison.Ordinal);
            Assert.Contains("prediction", overview, StringComparison.Ordinal);
            Assert.Contains("2026-01-02", await client.GetStringAsync("/ui/projects/churn/runs?pipeline=prediction"), StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                using (var stop = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await stop.WaitForExitAsync();
                if (!process.WaitForExit(30_000)) process.Kill(entireProcessTree: true);
            }
        }
    }
}
