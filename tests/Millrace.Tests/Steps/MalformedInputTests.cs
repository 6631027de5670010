using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

public sealed class MalformedInputTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    void ReadThenSave(string path, string extraReadOptions = "") => _project.Workflow("ingest", $"""
        name: ingest
        steps:
          - id: load
            type: read
            path: {path}
            {extraReadOptions}
          - id: save
            type: write
            input: load
            dataset: loaded
        """);

    async Task<(Run Run, StepRun Load)> RunAsync()
    {
        var run = await _project.RunAsync("ingest");
        return (run, await _project.StepRunAsync(run.Id, "load"));
    }

    [Fact]
    public async Task A_value_that_does_not_fit_the_declared_type_names_the_file_and_line()
    {
        _project.LakeFile("raw/orders/day1.csv", "order_id,amount\n1,10\n2,20\nthree,30\n4,40\n");
        ReadThenSave("raw/orders/*.csv", "schema: { order_id: BIGINT, amount: BIGINT }");

        var (run, load) = await RunAsync();

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal(RunStatus.Failed, load.Status);
        Assert.Contains("raw/orders/day1.csv", load.Error);
        Assert.Contains("line 4", load.Error);
        Assert.Contains("three", load.Error);
        Assert.Null(await _project.DatasetVersionAsync("loaded"));
    }

    [Fact]
    public async Task A_row_with_too_many_fields_names_the_file_and_line()
    {
        _project.LakeFile("raw/orders/day1.csv", "order_id,amount\n1,10\n2,20,extra\n3,30\n");
        ReadThenSave("raw/orders/*.csv", "schema: { order_id: BIGINT, amount: BIGINT }");

        var (run, load) = await RunAsync();

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("raw/orders/day1.csv", load.Error);
        Assert.Contains("line 3", load.Error);
    }

    [Fact]
    public async Task A_row_with_too_many_fields_fails_the_run_even_without_a_schema()
    {
        // Without the fix DuckDB's sniffer fell back to one text column split on '|' and the run "succeeded".
        _project.LakeFile("raw/orders/day1.csv", "order_id,amount\n1,10\n2,20\n3,30,extra\n4,40\n");
        ReadThenSave("raw/orders/*.csv");

        var (run, load) = await RunAsync();

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("raw/orders/day1.csv", load.Error);
        Assert.Contains("line 4", load.Error);
        Assert.Null(await _project.DatasetVersionAsync("loaded"));
    }

    [Fact]
    public async Task A_ragged_row_in_one_of_several_files_names_that_file_and_line()
    {
        _project.LakeFile("raw/orders/day1.csv", "order_id,amount\n1,10\n")
                .LakeFile("raw/orders/day2.csv", "order_id,amount\n2,20\n3,30\n4,40,extra\n")
                .LakeFile("raw/orders/day3.csv", "order_id,amount\n5,50\n");
        ReadThenSave("raw/orders/*.csv", "schema: { order_id: BIGINT, amount: BIGINT }");

        var (run, load) = await RunAsync();

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.StartsWith("raw/orders/day2.csv line 4", load.Error);
    }

    [Fact]
    public async Task The_bad_file_is_named_when_several_files_are_read()
    {
        _project.LakeFile("raw/orders/day1.csv", "order_id,amount\n1,10\n")
                .LakeFile("raw/orders/day2.csv", "order_id,amount\n2,20\n3,x\n")
                .LakeFile("raw/orders/day3.csv", "order_id,amount\n4,40\n");
        ReadThenSave("raw/orders/*.csv", "schema: { order_id: BIGINT, amount: BIGINT }");

        var (run, load) = await RunAsync();

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("raw/orders/day2.csv", load.Error);
        Assert.DoesNotContain("day1.csv", load.Error);
        Assert.Contains("line 3", load.Error);
    }

    [Fact]
    public async Task An_empty_file_is_a_clear_error_naming_it()
    {
        _project.LakeFile("raw/orders/day1.csv", "order_id,amount\n1,10\n").LakeFile("raw/orders/day2.csv", "");
        ReadThenSave("raw/orders/*.csv");

        var (run, load) = await RunAsync();

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("file raw/orders/day2.csv is empty (0 bytes)", load.Error);
        Assert.Contains("allow_empty", load.Error);
    }

    [Fact]
    public async Task With_allow_empty_an_empty_file_is_skipped()
    {
        _project.LakeFile("raw/orders/day1.csv", "order_id,amount\n1,10\n").LakeFile("raw/orders/day2.csv", "");
        ReadThenSave("raw/orders/*.csv", "allow_empty: true");

        var (run, load) = await RunAsync();

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(1, load.Rows);
    }

    [Fact]
    public async Task With_allow_empty_and_a_schema_no_files_give_zero_rows()
    {
        ReadThenSave("raw/orders/*.csv", "allow_empty: true\n    schema: { order_id: BIGINT, amount: DOUBLE }");

        var (run, load) = await RunAsync();

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(0, load.Rows);
        var saved = await _project.DatasetVersionAsync("loaded");
        Assert.Equal(0, saved!.Rows);
        Assert.Equal([new ColumnSchema("order_id", "BIGINT"), new ColumnSchema("amount", "DOUBLE")], saved.Schema);
    }

    [Fact]
    public async Task No_matching_files_is_an_error_naming_the_pattern()
    {
        _project.LakeFile("raw/orders/other.txt", "x");
        ReadThenSave("raw/orders/dt=*/*.csv");

        var (run, load) = await RunAsync();

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("no files match 'raw/orders/dt=*/*.csv'", load.Error);
        Assert.Equal(RunStatus.Skipped, (await _project.StepRunAsync(run.Id, "save")).Status);
    }

    [Fact]
    public async Task The_pattern_in_the_error_has_its_parameters_expanded()
    {
        ReadThenSave("raw/orders/dt=${run.date}/*.csv");

        var run = await _project.RunAsync(new Millrace.Engine.RunRequest("ingest", [new("run.date", "2024-03-04")]));

        Assert.Contains("no files match 'raw/orders/dt=2024-03-04/*.csv'", (await _project.StepRunAsync(run.Id, "load")).Error);
    }
}
