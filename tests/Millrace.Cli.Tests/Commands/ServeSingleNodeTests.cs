using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Millrace.Cli.Tests.TestSupport;

namespace Millrace.Cli.Tests.Commands;

/// <summary>`millrace serve` on a SQLite store another serve holds is refused, naming it; `--public-url` is checked.</summary>
[Trait("Category", "Security")]
public sealed class ServeSingleNodeTests
{
    [Fact]
    public async Task A_second_serve_on_the_same_sqlite_store_exits_with_an_error_naming_the_first()
    {
        using var directory = new TempDirectory();
        var root = Path.Combine(directory.Path, "demo");
        Assert.Equal(0, (await Shell.RunAsync("init", root)).ExitCode);
        using var first = Shell.Start(null, "serve", "-p", root, "--urls", "http://127.0.0.1:0");
        try
        {
            var limit = Stopwatch.StartNew();
            var serving = false;
            while (!serving && limit.Elapsed < TimeSpan.FromSeconds(60))
            {
                var line = await first.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("serve exited: " + await first.StandardError.ReadToEndAsync());
                serving = Regex.IsMatch(line, @"serving \d+ project\(s\) on http://127\.0\.0\.1:\d+");
            }
            Assert.True(serving, "the first serve did not start");

            // Before the lock, this second server started and served beside the first (and never returned).
            var second = await Shell.RunAsync("serve", "-p", root, "--urls", "http://127.0.0.1:0").WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(CliApp.Failure, second.ExitCode);
            Assert.Contains("another millrace serve already serves its SQLite store", second.Error, StringComparison.Ordinal);
            Assert.Contains($"pid {first.Id.ToString(CultureInfo.InvariantCulture)}", second.Error, StringComparison.Ordinal);
        }
        finally
        {
            using (var kill = Process.Start("kill", ["-TERM", first.Id.ToString(CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
            await first.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("ftp://millrace.example.com")]
    [InlineData("https://millrace.example.com/?next=x")]
    public async Task A_public_url_that_cannot_prefix_links_is_a_usage_error(string url)
    {
        using var directory = new TempDirectory();
        var root = Path.Combine(directory.Path, "demo");
        Assert.Equal(0, (await Shell.RunAsync("init", root)).ExitCode);

        var result = await Shell.RunAsync("serve", "-p", root, "--urls", "http://127.0.0.1:0", "--public-url", url).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(CliApp.UsageError, result.ExitCode);
        Assert.Contains("--public-url must be an absolute http:// or https:// address", result.Error, StringComparison.Ordinal);
    }
}
