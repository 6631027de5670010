using System.Text.RegularExpressions;
using Millrace.Cli.Tests.TestSupport;

namespace Millrace.Cli.Tests.Commands;

/// <summary>
/// A malformed YAML file and extreme durations give one located error line, never a stack trace; commands that
/// only read the store keep working on a project whose definitions are broken, with a warning.
/// </summary>
[Trait("Category", "Security")]
public sealed partial class BrokenDefinitionsTests
{
    /// <summary>The issue's repro: an unclosed flow mapping followed by another line (YamlDotNet threw InvalidOperationException).</summary>
    const string UnclosedFlowMapping = "x: { a: 1, b: 2\ny: 3\n";

    [GeneratedRegex(@"^\s+at \S+\(", RegexOptions.Multiline)]
    private static partial Regex StackFrame();

    static void NoCrash(CliResult result)
    {
        Assert.DoesNotContain("Unhandled exception", result.Error, StringComparison.Ordinal);
        Assert.DoesNotMatch(StackFrame(), result.Error);
    }

    static TempDirectory Project()
    {
        var directory = new TempDirectory();
        directory.Write("millrace.yaml", "id: sales\n");
        directory.Write("workflows/copy.yaml", """
            name: copy
            steps:
              - id: sales
                type: read
                path: raw/sales.csv
              - id: store
                type: write
                input: sales
                dataset: sales
            """);
        directory.Write("lake/raw/sales.csv", "id,amount\n1,10\n2,20\n");
        return directory;
    }

    [Fact]
    public async Task Validate_and_run_report_a_malformed_file_with_its_location()
    {
        using var project = Project();
        project.Write("workflows/broken.yaml", "name: broken\nsteps:\n  - { id: a, type: read, path: raw/sales.csv }\n" + UnclosedFlowMapping);

        var validate = await Shell.RunAsync("validate", "-p", project.Path);
        var run = await Shell.RunAsync("run", "copy", "-p", project.Path);

        foreach (var result in new[] { validate, run })
        {
            NoCrash(result);
            Assert.Equal(CliApp.Failure, result.ExitCode);
            Assert.Matches(@"workflows/broken\.yaml:[4-6]:\d+: invalid YAML", result.Error);
        }
    }

    [Fact]
    public async Task Read_only_commands_keep_working_on_broken_definitions_with_a_warning()
    {
        using var project = Project();
        var first = await Shell.RunAsync("run", "copy", "-p", project.Path);
        Assert.True(first.ExitCode == 0, first.ToString());
        var runId = Regex.Match(first.Output, @"run (\d{8}-\d{6}-[0-9a-f]+)").Groups[1].Value;
        project.Write("workflows/copy.yaml", File.ReadAllText(Path.Combine(project.Path, "workflows/copy.yaml")) + UnclosedFlowMapping);

        foreach (var args in new[] { ["runs"], ["run", "show", runId], ["datasets"], ["anomalies"], new[] { "models", "list" } })
        {
            var result = await Shell.RunAsync([.. args, "-p", project.Path]);
            NoCrash(result);
            Assert.True(result.ExitCode == 0, $"{string.Join(' ', args)}: {result}");
            Assert.Matches(@"warning: the definitions have 1 error \(the first: workflows/copy\.yaml:\d+:\d+: invalid YAML", result.Error);
        }
        Assert.Contains(runId, (await Shell.RunAsync("runs", "-p", project.Path)).Output, StringComparison.Ordinal);
        Assert.Contains("sales", (await Shell.RunAsync("datasets", "-p", project.Path)).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_project_file_is_reported_and_the_store_still_read()
    {
        using var project = Project();
        Assert.Equal(0, (await Shell.RunAsync("run", "copy", "-p", project.Path)).ExitCode);
        project.Write("millrace.yaml", "id: sales\n" + UnclosedFlowMapping);

        var validate = await Shell.RunAsync("validate", "-p", project.Path);
        var runs = await Shell.RunAsync("runs", "-p", project.Path);

        NoCrash(validate);
        Assert.Matches(@"millrace\.yaml:\d+:\d+: invalid YAML", validate.Error);
        NoCrash(runs);
        Assert.Contains("millrace.yaml has errors, so its store and lake settings may be ignored", runs.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("99999999d", "--expires must be at most 3650d, got '99999999d'")]
    [InlineData("NaNd", "--expires must be a duration such as 30s")]
    [InlineData("Infinityd", "--expires must be a duration such as 30s")]
    [InlineData("-1d", "--expires must be a duration such as 30s")]
    [InlineData("1e9d", "--expires must be a duration such as 30s")]
    [InlineData("0s", "--expires must be longer than 0s")]
    public async Task Token_expiry_out_of_bounds_is_a_usage_error_naming_the_flag(string expires, string expected)
    {
        using var project = Project();

        var result = await Shell.RunAsync("token", "create", "-p", project.Path, "--expires", expires);

        NoCrash(result);
        Assert.Equal(CliApp.UsageError, result.ExitCode);
        Assert.Contains($"error: {expected}", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_expiry_of_ten_years_is_accepted()
    {
        using var directory = new TempDirectory();
        var root = Path.Combine(directory.Path, "demo");
        Assert.Equal(0, (await Shell.RunAsync("init", root)).ExitCode);

        var result = await Shell.RunAsync("token", "create", "-p", root, "--expires", "3650d");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"expires {DateTimeOffset.UtcNow.AddDays(3650):yyyy-MM-dd}", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--heartbeat", "99999999d", "--heartbeat must be at most 10m")]
    [InlineData("--heartbeat", "NaNs", "--heartbeat must be a duration")]
    [InlineData("--node-timeout", "99999999d", "--node-timeout must be at most 1d")]
    [InlineData("--shutdown-timeout", "2h", "--shutdown-timeout must be at most 30m")]
    [InlineData("--deadline-poll", "2h", "--deadline-poll must be at most 1h")]
    [InlineData("--deadline-poll", "0s", "--deadline-poll must be")]
    [InlineData("--shutdown-timeout", "-1s", "--shutdown-timeout must be a duration")]
    public async Task Serve_duration_flags_out_of_bounds_are_usage_errors_before_anything_starts(string flag, string value, string expected)
    {
        using var project = Project();

        var result = await Shell.RunAsync("serve", "-p", project.Path, "--urls", "http://127.0.0.1:0", flag, value);

        NoCrash(result);
        Assert.Equal(CliApp.UsageError, result.ExitCode);
        Assert.Contains($"error: {expected}", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("timeout: 99999999d", "pipelines/daily.yaml:2:10: field 'timeout' must be at most 7d, got '99999999d'")]
    [InlineData("timeout: 60d", "pipelines/daily.yaml:2:10: field 'timeout' must be at most 7d, got '60d'")]
    [InlineData("timeout: NaNd", "pipelines/daily.yaml:2:10: field 'timeout' must be a duration")]
    public async Task Validate_reports_an_extreme_timeout_where_it_is(string line, string expected)
    {
        using var project = Project();
        project.Write("pipelines/daily.yaml", $"workflows: [copy]\n{line}\n");

        var result = await Shell.RunAsync("validate", "-p", project.Path);

        NoCrash(result);
        Assert.Equal(CliApp.Failure, result.ExitCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
    }
}
