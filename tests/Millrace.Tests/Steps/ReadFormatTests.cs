using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

public sealed class ReadFormatTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    /// <summary>A workflow that reads <paramref name="readOptions"/> and saves the rows as dataset <c>out</c>.</summary>
    void ReadAndSave(string readOptions) => _project.Workflow("wf", $"""
        name: wf
        steps:
          - id: source
            type: read
        {Indent(readOptions, 4)}
          - id: save
            type: write
            input: source
            dataset: out
        """);

    static string Indent(string text, int spaces) =>
        string.Join("\n", text.Split('\n').Select(line => new string(' ', spaces) + line));

    async Task<DatasetVersion> RunAndGetOutputAsync()
    {
        var run = await _project.RunAsync("wf");
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        return (await _project.DatasetVersionAsync("out"))!;
    }

    [Fact]
    public async Task Csv_files_are_read_with_inferred_types()
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv);
        ReadAndSave("path: raw/customers.csv");

        var output = await RunAndGetOutputAsync();

        Assert.Equal(SampleData.Customers, output.Rows);
        Assert.Equal(
            [new ColumnSchema("customer_id", "BIGINT"), new ColumnSchema("name", "VARCHAR"), new ColumnSchema("region", "VARCHAR"), new ColumnSchema("spend", "DOUBLE")],
            output.Schema);
    }

    [Fact]
    public async Task Parquet_files_are_read()
    {
        Directory.CreateDirectory(_project.LakePath("raw"));
        TestProject.Execute($"COPY (SELECT range AS id, 'n' || range AS label FROM range(7)) TO '{_project.LakePath("raw/items.parquet")}' (FORMAT parquet)");
        ReadAndSave("path: raw/*.parquet");

        var output = await RunAndGetOutputAsync();

        Assert.Equal(7, output.Rows);
        Assert.Equal([new ColumnSchema("id", "BIGINT"), new ColumnSchema("label", "VARCHAR")], output.Schema);
        var last = await _project.QueryDatasetAsync("out", "SELECT label FROM {dataset} WHERE id = 6");
        Assert.Equal("n6", Assert.Single(last)[0]);
    }

    [Fact]
    public async Task Newline_delimited_json_files_are_read()
    {
        _project.LakeFile("raw/events.jsonl", """
            {"event_id": 1, "kind": "click", "amount": 2.5}
            {"event_id": 2, "kind": "view", "amount": 0}
            {"event_id": 3, "kind": "click", "amount": 1}

            """);
        ReadAndSave("path: raw/events.jsonl");

        var output = await RunAndGetOutputAsync();

        Assert.Equal(3, output.Rows);
        var clicks = await _project.QueryDatasetAsync("out", "SELECT count(*) FROM {dataset} WHERE kind = 'click'");
        Assert.Equal(2L, clicks[0][0]);
    }

    [Fact]
    public async Task A_hive_partition_folder_becomes_a_column()
    {
        _project.LakeFile("raw/events/dt=2024-01-01/part.csv", "event_id,amount\n1,10\n2,20\n")
                .LakeFile("raw/events/dt=2024-01-02/part.csv", "event_id,amount\n3,30\n");
        ReadAndSave("path: raw/events/dt=*/*.csv");

        var output = await RunAndGetOutputAsync();

        Assert.Equal(3, output.Rows);
        Assert.Contains(output.Schema, c => c.Name == "dt");
        var byDay = await _project.QueryDatasetAsync("out", "SELECT CAST(dt AS VARCHAR), count(*) FROM {dataset} GROUP BY 1 ORDER BY 1");
        Assert.Equal([["2024-01-01", 2L], ["2024-01-02", 1L]], byDay.Select(r => r.ToArray()));
    }

    [Fact]
    public async Task An_explicit_schema_sets_the_column_types()
    {
        // Inferred, "007" would become the number 7.
        _project.LakeFile("raw/codes.csv", "code,amount\n007,1\n042,2\n");
        ReadAndSave("""
            path: raw/codes.csv
            schema: { code: VARCHAR, amount: DOUBLE }
            """);

        var output = await RunAndGetOutputAsync();

        Assert.Equal([new ColumnSchema("code", "VARCHAR"), new ColumnSchema("amount", "DOUBLE")], output.Schema);
        var codes = await _project.QueryDatasetAsync("out", "SELECT code FROM {dataset} ORDER BY code");
        Assert.Equal(["007", "042"], codes.Select(r => (string)r[0]!));
    }

    [Fact]
    public async Task The_separator_and_quoting_of_a_csv_file_are_detected()
    {
        _project.LakeFile("raw/a.csv", "id;note\n1;\"x; y\"\n2;\"say \"\"hi\"\"\"\n");
        ReadAndSave("path: raw/a.csv");

        var output = await RunAndGetOutputAsync();

        Assert.Equal([new ColumnSchema("id", "BIGINT"), new ColumnSchema("note", "VARCHAR")], output.Schema);
        var notes = await _project.QueryDatasetAsync("out", "SELECT note FROM {dataset} ORDER BY id");
        Assert.Equal(["x; y", "say \"hi\""], notes.Select(r => (string)r[0]!));
    }

    [Fact]
    public async Task A_tab_separated_file_is_read_with_a_declared_delimiter()
    {
        _project.LakeFile("raw/a.tsv", "id\tname\n1\tAnn\n2\tBob\n");
        ReadAndSave("path: raw/a.tsv\ndelimiter: \"\\t\"");

        var output = await RunAndGetOutputAsync();

        Assert.Equal(2, output.Rows);
        Assert.Equal(["id", "name"], output.Schema.Select(c => c.Name));
    }

    [Fact]
    public async Task Several_csv_files_with_different_columns_are_unioned_by_name()
    {
        _project.LakeFile("raw/a.csv", "id,x\n1,10\n").LakeFile("raw/b.csv", "id,y\n2,20\n");
        ReadAndSave("path: raw/*.csv");

        var output = await RunAndGetOutputAsync();

        Assert.Equal(2, output.Rows);
        Assert.Equal(["id", "x", "y"], output.Schema.Select(c => c.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_step_run_records_which_files_were_read()
    {
        _project.LakeFile("raw/a.csv", "id\n1\n").LakeFile("raw/b.csv", "id\n2\n");
        ReadAndSave("path: raw/*.csv");

        var run = await _project.RunAsync("wf");

        var details = (await _project.StepRunAsync(run.Id, "source")).DetailsJson;
        Assert.NotNull(details);
        Assert.Contains("\"raw/a.csv\"", details);
        Assert.Contains("\"raw/b.csv\"", details);
    }
}
