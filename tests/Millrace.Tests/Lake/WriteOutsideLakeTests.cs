using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Lake;

public sealed class WriteOutsideLakeTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Theory]
    [InlineData("../outside/")]
    [InlineData("reports/../../outside/out.csv")]
    public void A_written_path_outside_the_lake_is_a_validation_error_naming_the_path(string path)
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("export", $"""
            name: export
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: out
                type: write
                input: customers
                path: {path}
            """);

        var error = DefinitionAssert.Single(_project.Check(), "leaves the lake root");
        Assert.Contains(path, error.Message);
        Assert.Equal("out", error.StepId);
        Assert.Equal(9, error.Location.Line);
        Assert.False(Directory.Exists(Path.Combine(_project.Directory, "outside")), "a folder was created outside the lake");
    }

    [Theory]
    [InlineData("raw/copy.csv", "landing zone")]
    [InlineData("datasets/customers/x.parquet", "manages itself")]
    [InlineData("_staging/x.csv", "manages itself")]
    public async Task A_write_into_the_landing_zone_or_millrace_folders_fails_and_changes_nothing(string path, string message)
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("export", """
            name: export
            parameters: { target: x }
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: out
                type: write
                input: customers
                path: ${target}
            """);

        var run = await _project.RunAsync("export", ("target", path));

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains(message, run.Error);
        Assert.False(File.Exists(Path.Combine(_project.Directory, "lake", path)));
        Assert.Equal(SampleData.CustomersCsv, File.ReadAllText(Path.Combine(_project.Directory, "lake", "raw", "customers.csv")));
    }

    [Fact]
    public async Task A_parameter_cannot_smuggle_a_path_out_of_the_lake()
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("export", """
            name: export
            parameters: { folder: reports }
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: out
                type: write
                input: customers
                path: ${folder}/customers.csv
            """);

        var run = await _project.RunAsync("export", ("folder", "../escaped"));

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("../escaped/customers.csv", run.Error);
        Assert.False(Directory.Exists(Path.Combine(_project.Directory, "escaped")));
    }
}
