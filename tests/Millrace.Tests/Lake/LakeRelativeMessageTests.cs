using Millrace.Lake;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Lake;

/// <summary>Errors and logs that viewers read name lake files lake-relative, never by the server's absolute path.</summary>
[Trait("Category", "Security")]
public sealed class LakeRelativeMessageTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Fact]
    public async Task A_DuckDB_error_about_a_lake_file_names_it_lake_relative()
    {
        _project.LakeFile("raw/data.parquet", "not,parquet\n1,2\n").Workflow("load", """
            name: load
            steps:
              - id: rows
                type: read
                path: raw/data.parquet
              - id: keep
                type: write
                input: rows
                dataset: rows
            """);

        var run = await _project.RunAsync("load");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("raw/data.parquet", run.Error);
        Assert.DoesNotContain(_project.LakeDirectory, run.Error);
        Assert.DoesNotContain(_project.LakeDirectory, (await _project.StepRunAsync(run.Id, "rows")).Error);
        var logs = await (await _project.StoreAsync()).GetLogsAsync(run.Id, CancellationToken.None);
        Assert.All(logs, l => Assert.DoesNotContain(_project.LakeDirectory, l.Message));
    }

    [Fact]
    public void Relativize_shows_paths_under_the_root_lake_relative_and_the_root_as_a_name()
    {
        var lake = new LakeRoot(_project.LakeDirectory);

        Assert.Equal("cannot open 'raw/x.csv' in <lake>", lake.Relativize($"cannot open '{Path.Combine(lake.Root, "raw", "x.csv")}' in {lake.Root}"));
    }
}
