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
    public async Task A_write_to_a_path_outside_the_lake_fails_the_run_and_writes_nothing_outside(string path)
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

        var run = await _project.RunAsync("export");

        Assert.Equal(RunStatus.Failed, run.Status);
        var step = await _project.StepRunAsync(run.Id, "out");
        Assert.Equal(RunStatus.Failed, step.Status);
        Assert.Contains(path, step.Error);
        Assert.Contains(path, run.Error);
        Assert.False(Directory.Exists(Path.Combine(_project.Directory, "outside")), "a folder was created outside the lake");
        Assert.Empty(_project.FilesUnder("lake/_staging"));
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
