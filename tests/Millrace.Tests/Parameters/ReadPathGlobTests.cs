using Millrace.Storage;
using Millrace.Tests.TestSupport;
using static Millrace.Tests.Quality.QualityProject;

namespace Millrace.Tests.Parameters;

/// <summary>
/// A parameter value expanded into a read path is literal path text: one holding a glob character is refused naming
/// the parameter, so <c>--var region=*</c> cannot read every region. And a landing file whose own name holds glob
/// characters is read once, as itself (DuckDB globs every path it is given, so Millrace escapes them).
/// </summary>
[Trait("Category", "Security")]
public sealed class ReadPathGlobTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    void Sales() => _project
        .LakeFile("raw/sales/region=north/a.csv", "id,amount\n1,10\n")
        .LakeFile("raw/sales/region=south/a.csv", "id,amount\n2,20\n")
        .LakeFile("raw/sales/region=nirth/a.csv", "id,amount\n3,30\n")
        .Workflow("ingest", """
            name: ingest
            parameters: { region: { default: north } }
            steps:
              - id: sales
                type: read
                path: raw/sales/region=${region}/*.csv
              - id: save
                type: write
                input: sales
                dataset: sales
            """);

    [Theory]
    [InlineData("*", '*')]
    [InlineData("n?rth", '?')]
    [InlineData("n[oi]rth", '[')]
    [InlineData("**", '*')]
    [InlineData("{north,south}", '{')]
    [InlineData("north]", ']')]
    public async Task A_value_with_a_glob_character_is_refused_naming_the_parameter(string value, char wildcard)
    {
        Sales();

        var run = await _project.RunAsync("ingest", ("region", value));

        Assert.Equal(RunStatus.Failed, run.Status);
        var error = (await _project.StepRunAsync(run.Id, "sales")).Error;
        Assert.Contains($"parameter 'region' has the value '{value}', whose '{wildcard}' would be a wildcard", error);
        Assert.Contains("literal text", error);
        Assert.Null(await _project.DatasetVersionAsync("sales"));
    }

    [Fact]
    public async Task A_plain_value_reads_its_own_folder_only()
    {
        Sales();

        await _project.RunOkAsync("ingest", ("region", "south"));

        Assert.Equal([2L], (await _project.QueryDatasetAsync("sales", "SELECT id FROM {dataset}")).Select(r => Long(r[0])));
    }

    [Fact]
    public async Task The_definitions_own_wildcards_still_match()
    {
        Sales();
        _project.Workflow("ingest", """
            name: ingest
            steps:
              - id: sales
                type: read
                path: raw/sales/region=n*/*.csv
              - id: save
                type: write
                input: sales
                dataset: sales
            """);

        await _project.RunOkAsync("ingest");

        Assert.Equal([1L, 3L], (await _project.QueryDatasetAsync("sales", "SELECT id FROM {dataset} ORDER BY id")).Select(r => Long(r[0])));
    }

    [Fact]
    public async Task A_landing_file_named_with_glob_characters_is_read_once_as_itself()
    {
        _project
            .LakeFile("raw/orders/one.csv", "id\n1\n")
            .LakeFile("raw/orders/two.csv", "id\n2\n")
            .LakeFile("raw/orders/*.csv", "id\n3\n")
            .LakeFile("raw/orders/[ot]*.csv", "id\n4\n")
            .LakeFile("raw/orders/q?.csv", "id\n5\n")
            .Workflow("ingest", """
                name: ingest
                steps:
                  - id: orders
                    type: read
                    path: raw/orders/*.csv
                    incremental: true
                  - id: save
                    type: write
                    input: orders
                    dataset: orders
                """);

        var run = await _project.RunOkAsync("ingest");

        Assert.Equal([1L, 2L, 3L, 4L, 5L], (await _project.QueryDatasetAsync("orders", "SELECT id FROM {dataset} ORDER BY id")).Select(r => Long(r[0])));
        Assert.Equal(5, (await _project.StepRunAsync(run.Id, "orders")).Rows);
    }
}
