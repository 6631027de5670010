using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Millrace.Cli.Tests.TestSupport;

namespace Millrace.Cli.Tests.Commands;

/// <summary>`millrace token create|list|revoke` and `millrace serve` until SIGTERM, as a user drives them.</summary>
public sealed partial class TokenAndServeTests
{
    [GeneratedRegex(@"^mr_[0-9a-f]{16}_\S+$", RegexOptions.Multiline)]
    private static partial Regex TokenLine();

    [Fact]
    public async Task A_token_is_printed_once_listed_by_id_and_revoked()
    {
        using var directory = new TempDirectory();
        var root = Path.Combine(directory.Path, "demo");
        Assert.Equal(0, (await Shell.RunAsync("init", root)).ExitCode);

        var created = await Shell.RunAsync("token", "create", "-p", root, "--role", "viewer", "--expires", "90d", "--name", "dashboard");
        Assert.True(created.ExitCode == 0, created.ToString());
        var token = TokenLine().Match(created.Output).Value;
        var id = token.Split('_')[1];
        Assert.Contains("role viewer", created.Output, StringComparison.Ordinal);
        var quiet = await Shell.RunAsync("token", "create", "-p", root, "-q");
        Assert.Matches(TokenLine(), quiet.Output.Trim());

        var list = await Shell.RunAsync("token", "list", "-p", root);
        Assert.Contains(id, list.Output, StringComparison.Ordinal);
        Assert.Contains("dashboard", list.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(token, list.Output, StringComparison.Ordinal);

        Assert.Equal(0, (await Shell.RunAsync("token", "revoke", "-p", root, id)).ExitCode);
        Assert.Contains("revoked", (await Shell.RunAsync("token", "list", "-p", root)).Output, StringComparison.Ordinal);
        var again = await Shell.RunAsync("token", "revoke", "-p", root, id);
        Assert.Equal(CliApp.Failure, again.ExitCode);
        Assert.Contains("already revoked", again.Error, StringComparison.Ordinal);
        Assert.Equal(CliApp.UsageError, (await Shell.RunAsync("token", "create", "-p", root, "--role", "root")).ExitCode);
    }

    [Fact]
    public async Task Serve_answers_with_a_token_and_stops_gracefully_on_SIGTERM()
    {
        using var directory = new TempDirectory();
        var root = Path.Combine(directory.Path, "demo");
        Assert.Equal(0, (await Shell.RunAsync("init", root)).ExitCode);
        var token = (await Shell.RunAsync("token", "create", "-p", root, "-q")).Output.Trim();

        using var process = Shell.Start(null, "serve", "-p", root, "--urls", "http://127.0.0.1:0");
        var output = new System.Text.StringBuilder();
        string? address = null;
        var limit = Stopwatch.StartNew();
        while (address is null && limit.Elapsed < TimeSpan.FromSeconds(60))
        {
            var line = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("serve exited: " + output + await process.StandardError.ReadToEndAsync());
            output.AppendLine(line);
            if (Regex.Match(line, @"serving \d+ project\(s\) on (http://127\.0\.0\.1:\d+)") is { Success: true } m) address = m.Groups[1].Value;
        }
        Assert.NotNull(address);

        using var client = new HttpClient { BaseAddress = new Uri(address) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/projects/demo/pipelines")).StatusCode);
        client.DefaultRequestHeaders.Add("token", token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/projects/demo/pipelines")).StatusCode);

        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        var rest = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("stopped", rest, StringComparison.Ordinal);
    }
}
