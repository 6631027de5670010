using Millrace.Cli.Tests.TestSupport;

namespace Millrace.Cli.Tests.Commands;

/// <summary>
/// <c>millrace run --var</c> refuses control characters and values over the bound as a usage error, and a value with
/// a glob character in a read path fails the run naming the parameter instead of reading every folder.
/// </summary>
[Trait("Category", "Security")]
public sealed class VarBoundsTests
{
    static TempDirectory RegionProject()
    {
        var directory = new TempDirectory();
        directory.Write("millrace.yaml", "id: sales\n");
        directory.Write("workflows/by_region.yaml", """
            name: by_region
            parameters:
              region: { default: north }
            steps:
              - id: sales
                type: read
                path: raw/sales/region=${region}/*.csv
              - id: store
                type: write
                input: sales
                dataset: selected_sales
            """);
        directory.Write("lake/raw/sales/region=north/a.csv", "id,amount\n1,10\n");
        directory.Write("lake/raw/sales/region=south/a.csv", "id,amount\n2,20\n");
        return directory;
    }

    [Theory]
    [InlineData("region=north\0", "U+0000")]
    [InlineData("region=north\u001b[2J", "U+001B")]
    [InlineData("region=no\nrth", "U+000A")]
    public async Task A_control_character_in_a_value_is_a_usage_error_and_runs_nothing(string assignment, string expected)
    {
        using var project = RegionProject();

        var result = await Shell.RunAsync(["run", "by_region", "-p", project.Path, "--var", assignment]);

        Assert.Equal(CliApp.UsageError, result.ExitCode);
        Assert.Contains($"the value of parameter 'region' holds the control character {expected}", result.Error, StringComparison.Ordinal);
        Assert.Empty(await Committed.RunsAsync(project.Path));
    }

    [Fact]
    public async Task A_multi_megabyte_value_is_a_usage_error_and_runs_nothing()
    {
        using var project = RegionProject();

        var result = await Shell.RunAsync(["run", "by_region", "-p", project.Path, "--var", "region=" + new string('n', 2 * 1024 * 1024)]);

        Assert.Equal(CliApp.UsageError, result.ExitCode);
        Assert.Contains("a value may have at most 4,096", result.Error, StringComparison.Ordinal);
        Assert.True(result.Error.Length < 2000, "the error does not echo the value");
        Assert.Empty(await Committed.RunsAsync(project.Path));
    }

    [Fact]
    public async Task A_wildcard_value_in_a_read_path_fails_the_run_and_reads_no_region()
    {
        using var project = RegionProject();

        var result = await Shell.RunAsync(["run", "by_region", "-p", project.Path, "--var", "region=*"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("parameter 'region' has the value '*'", result.ToString(), StringComparison.Ordinal);
        Assert.Empty(await Committed.RowsAsync(project.Path, "selected_sales", "id"));
    }
}
