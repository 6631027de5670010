using Millrace.Lake;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Lake;

/// <summary>
/// Symbolic links are followed before a path is judged (real links in a temp lake): a link in the landing zone to a
/// file or folder outside the lake is refused rather than read, and a write through a linked folder never lands
/// outside the lake or in a folder it could not name.
/// </summary>
[Trait("Category", "Security")]
public sealed class SymlinkTests : IAsyncLifetime
{
    readonly TestProject _project = new();
    readonly TempDirectory _outside = new("outside");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _project.DisposeAsync();
        _outside.Dispose();
    }

    const string IngestWorkflow = """
        name: ingest
        steps:
          - id: rows
            type: read
            path: raw/**/*.csv
            incremental: true
          - id: keep
            type: write
            input: rows
            dataset: customers
        """;

    [Fact]
    public async Task A_landing_file_linking_outside_the_lake_is_refused_not_ingested()
    {
        _outside.Write("secret.csv", "customer_id,name,region,spend\n99,SECRET,north,1\n");
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("ingest", IngestWorkflow);
        File.CreateSymbolicLink(_project.LakePath("raw/passwd.csv"), Path.Combine(_outside.Path, "secret.csv"));

        var run = await _project.RunAsync("ingest");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("'raw/passwd.csv'", run.Error);
        Assert.Contains("symbolic link", run.Error);
        Assert.DoesNotContain(_outside.Path, run.Error);
        Assert.Null(await _project.DatasetVersionAsync("customers"));
        Assert.Empty(await (await _project.StoreAsync()).GetWatermarkAsync("ingest", "rows", CancellationToken.None));
    }

    [Fact]
    public async Task A_landing_folder_linking_outside_the_lake_is_refused_not_ingested()
    {
        _outside.Write("region=north/part.csv", "customer_id,name,region,spend\n99,SECRET,north,1\n");
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("ingest", IngestWorkflow);
        Directory.CreateSymbolicLink(_project.LakePath("raw/linked"), _outside.Path);

        var run = await _project.RunAsync("ingest");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("'raw/linked/region=north/part.csv'", run.Error);
        Assert.Null(await _project.DatasetVersionAsync("customers"));
    }

    [Fact]
    public async Task A_link_that_stays_inside_the_lake_is_read()
    {
        _project.LakeFile("shared/customers.csv", SampleData.CustomersCsv).Workflow("ingest", IngestWorkflow);
        Directory.CreateDirectory(_project.LakePath("raw"));
        File.CreateSymbolicLink(_project.LakePath("raw/customers.csv"), "../shared/customers.csv");

        var run = await _project.RunAsync("ingest");

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(SampleData.CustomersCsv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1, (await _project.DatasetVersionAsync("customers"))!.Rows);
    }

    [Theory]
    [InlineData("exports/out.csv")]
    [InlineData("exports/deeper/out.csv")]
    public async Task A_write_through_a_folder_linking_outside_the_lake_is_refused(string path)
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("export", Export(path));
        Directory.CreateSymbolicLink(_project.LakePath("exports"), _outside.Path);

        var run = await _project.RunAsync("export");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("symbolic link", run.Error);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_outside.Path));
    }

    [Fact]
    public async Task A_write_through_a_link_to_the_landing_zone_is_refused()
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("export", Export("exports/out.csv"));
        Directory.CreateSymbolicLink(_project.LakePath("exports"), "raw");

        var run = await _project.RunAsync("export");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("landing zone", run.Error);
        Assert.Equal(["customers.csv"], Directory.EnumerateFiles(_project.LakePath("raw")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_link_planted_after_the_step_ran_is_caught_when_publishing()
    {
        // A committed output whose folder became a link outside the lake (a swap after the commit) is not published.
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv);
        var lake = new LakeRoot(_project.LakeDirectory);
        Directory.CreateSymbolicLink(_project.LakePath("exports"), _outside.Path);

        var error = Assert.Throws<LakePathException>(() => lake.CheckPlaceable("exports/out.csv"));

        Assert.Contains("outside the lake root", error.Message);
    }

    [Fact]
    public void A_lake_that_itself_lives_behind_a_link_works()
    {
        Directory.CreateDirectory(Path.Combine(_outside.Path, "real-lake", "raw"));
        var linked = Path.Combine(_project.Directory, "linked-lake");
        Directory.CreateSymbolicLink(linked, Path.Combine(_outside.Path, "real-lake"));
        var lake = new LakeRoot(linked);

        Assert.Equal(Path.Combine(linked, "raw", "x.csv"), lake.Resolve("raw/x.csv"));
        Assert.Equal(Path.Combine(linked, "exports", "x.csv"), lake.ResolveWritable("exports/x.csv", "raw"));
    }

    [Fact]
    public void A_link_loop_is_refused_not_followed_forever()
    {
        var lake = new LakeRoot(_project.LakeDirectory);
        File.CreateSymbolicLink(_project.LakePath("a"), "b");
        File.CreateSymbolicLink(_project.LakePath("b"), "a");

        Assert.Contains("symbolic links", Assert.Throws<LakePathException>(() => lake.Resolve("a/x.csv")).Message);
    }

    static string Export(string path) => $"""
        name: export
        steps:
          - id: customers
            type: read
            path: raw/customers.csv
          - id: out
            type: write
            input: customers
            path: {path}
        """;
}
