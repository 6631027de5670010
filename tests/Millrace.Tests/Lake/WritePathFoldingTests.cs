using Millrace.Lake;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Lake;

/// <summary>
/// A write path is folded before it is judged: however a parameter spells it (<c>..</c>, <c>./</c>, <c>//</c>,
/// backslashes, other case, URL-encoding, NUL), a write never reaches the landing zone or a Millrace folder.
/// </summary>
[Trait("Category", "Security")]
public sealed class WritePathFoldingTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    const string ExportWorkflow = """
        name: export
        parameters: { dest: x }
        steps:
          - id: customers
            type: read
            path: raw/customers.csv
          - id: out
            type: write
            input: customers
            path: exports/${dest}/out.csv
        """;

    [Theory]
    [InlineData("../raw/sales/region=north", "landing zone")]
    [InlineData("../datasets/x", "manages itself")]
    [InlineData("../models", "manages itself")]
    [InlineData("../_staging/x", "manages itself")]
    [InlineData("../quarantine/q", "manages itself")]
    [InlineData("..\\raw\\sales", "landing zone")]
    [InlineData(".//..//raw", "landing zone")]
    [InlineData("a/../../raw", "landing zone")]
    [InlineData("../RAW/x", "landing zone")]
    [InlineData("../Datasets/x", "manages itself")]
    [InlineData("%2e%2e/raw", "URL-encoded")]
    [InlineData("%252e%252e/raw", "URL-encoded")]
    [InlineData("..%2fraw", "URL-encoded")]
    [InlineData("../../outside", "leaves the lake root")]
    [InlineData("raw./x", "ending in '.'")]
    public async Task A_parameter_cannot_fold_a_write_into_a_protected_folder(string dest, string message)
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("export", ExportWorkflow);
        var before = LakeFiles();

        var run = await _project.RunAsync("export", ("dest", dest));

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains(message, run.Error);
        Assert.Equal(before, LakeFiles());
        Assert.Empty(await (await _project.StoreAsync()).GetUnpublishedFilesAsync(CancellationToken.None));
        Assert.False(Directory.Exists(Path.Combine(_project.Directory, "outside")));
    }

    [Fact]
    public async Task A_folded_path_that_stays_in_an_output_folder_is_written_at_its_folded_place()
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("export", ExportWorkflow);

        var run = await _project.RunAsync("export", ("dest", "a/./b//..\\c"));

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.True(File.Exists(_project.LakePath("exports/a/c/out.csv")));
    }

    [Theory]
    [InlineData("exports/../raw/copy.csv", "landing zone")]
    [InlineData("./raw//copy.csv", "landing zone")]
    [InlineData("exports\\..\\datasets\\x.parquet", "manages itself")]
    [InlineData("Models/x.csv", "manages itself")]
    [InlineData("exports/../datasets/${dest}.csv", "manages itself")]
    [InlineData("../${dest}/x.csv", "leaves the lake root")]
    [InlineData("exports/x./out.csv", "ending in '.'")]
    public void A_definition_that_names_a_protected_folder_is_a_located_validation_error(string path, string message)
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("export", $$"""
            name: export
            parameters: { dest: x }
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: out
                type: write
                input: customers
                path: '{{path}}'
            """);

        var error = DefinitionAssert.Single(_project.Check(), message);

        Assert.Equal("out", error.StepId);
        Assert.Equal(10, error.Location.Line);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void A_landing_zone_configured_elsewhere_is_protected_the_same_way()
    {
        _project.File("millrace.yaml", "id: test\nname: Test\nlanding: incoming\n")
            .LakeFile("incoming/customers.csv", SampleData.CustomersCsv).Workflow("export", """
            name: export
            steps:
              - id: customers
                type: read
                path: incoming/customers.csv
              - id: out
                type: write
                input: customers
                path: exports/../Incoming/copy.csv
            """);

        DefinitionAssert.Single(_project.Check(), "landing zone 'incoming/'");
    }

    [Theory]
    [InlineData("../raw")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("${dest}")]
    public void A_quarantine_name_that_is_a_path_is_a_located_validation_error(string name)
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("checked", $$"""
            name: checked
            parameters: { dest: x }
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: quality
                type: check
                input: customers
                expect: [ { not_null: [customer_id] } ]
                on_failure: quarantine
                quarantine: '{{name}}'
            """);

        var error = DefinitionAssert.Single(_project.Check(), "is a folder name under quarantine/");

        Assert.Equal("quality", error.StepId);
        Assert.Equal(12, error.Location.Line);
    }

    [Theory]
    [InlineData("a/../b", "b")]
    [InlineData("./a//b/", "a/b")]
    [InlineData("a\\b\\..\\c", "a/c")]
    [InlineData("a/%C3%A3o/b", "a/%C3%A3o/b")]
    [InlineData("a/..", "")]
    public void Fold_gives_the_canonical_form(string path, string folded) => Assert.Equal(folded, LakePath.Fold(path));

    [Theory]
    [InlineData("exports/x\0/y", "NUL")]
    [InlineData("exports/x\u0001/y", "control character")]
    [InlineData("exports/x /y", "ending in '.' or a space")]
    public void A_name_no_file_system_holds_is_not_writable(string path, string message) =>
        Assert.Contains(message, Assert.Throws<LakePathException>(() => LakeRoot.CheckWritable(path, "raw")).Message);

    [Fact]
    public void A_segment_or_path_too_long_for_a_file_system_is_not_writable()
    {
        var segment = new string('s', 300);
        Assert.Contains("at most 255", Assert.Throws<LakePathException>(() => LakeRoot.CheckWritable($"exports/{segment}.csv", "raw")).Message);
        var deep = string.Join('/', Enumerable.Repeat(new string('d', 200), 6));
        Assert.Contains("at most 1024", Assert.Throws<LakePathException>(() => LakeRoot.CheckWritable(deep, "raw")).Message);
    }

    string[] LakeFiles() => Directory.EnumerateFileSystemEntries(_project.LakeDirectory, "*", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(_project.LakeDirectory, f)).Where(f => !f.StartsWith("_staging", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
}
