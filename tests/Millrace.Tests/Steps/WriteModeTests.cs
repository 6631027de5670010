using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

public sealed class WriteModeTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    void LoadBatchInto(string writeOptions) => _project.Workflow("load", $"""
        name: load
        steps:
          - id: batch
            type: read
            path: raw/batch.csv
            schema: {"{"} dt: DATE, id: BIGINT, amount: BIGINT {"}"}
          - id: save
            type: write
            input: batch
            dataset: events
            {writeOptions}
        """);

    async Task<DatasetVersion> RunBatchAsync(string csv)
    {
        _project.LakeFile("raw/batch.csv", "dt,id,amount\n" + csv);
        var run = await _project.RunAsync("load");
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        return (await _project.DatasetVersionAsync("events"))!;
    }

    async Task<IReadOnlyList<(string Day, long Id)>> RowsAsync(int version) =>
        (await _project.QueryDatasetAsync("events", "SELECT CAST(dt AS VARCHAR), id FROM {dataset} ORDER BY dt, id", version))
            .Select(r => ((string)r[0]!, (long)r[1]!)).ToList();

    [Fact]
    public async Task Overwrite_replaces_all_rows_in_a_new_version()
    {
        LoadBatchInto("mode: overwrite");

        var first = await RunBatchAsync("2024-01-01,1,10\n2024-01-01,2,20\n");
        var second = await RunBatchAsync("2024-01-02,3,30\n");

        Assert.Equal((1, 2L, "overwrite"), (first.Version, first.Rows, first.Operation));
        Assert.Equal((2, 1L, "overwrite"), (second.Version, second.Rows, second.Operation));
        Assert.Equal([("2024-01-02", 3L)], await RowsAsync(2));
        Assert.Equal([("2024-01-01", 1L), ("2024-01-01", 2L)], await RowsAsync(1));
    }

    [Fact]
    public async Task Append_adds_rows_and_keeps_the_previous_files()
    {
        LoadBatchInto("mode: append");

        var first = await RunBatchAsync("2024-01-01,1,10\n2024-01-01,2,20\n");
        var second = await RunBatchAsync("2024-01-02,3,30\n");

        Assert.Equal(2, second.Version);
        Assert.Equal(3, second.Rows);
        Assert.Equal("append", second.Operation);
        Assert.All(first.Files, f => Assert.Contains(f, second.Files));
        Assert.Equal(first.Files.Count + 1, second.Files.Count);
        Assert.Equal([("2024-01-01", 1L), ("2024-01-01", 2L), ("2024-01-02", 3L)], await RowsAsync(2));
    }

    [Fact]
    public async Task Append_with_a_different_schema_fails_and_says_what_changed()
    {
        LoadBatchInto("mode: append");
        await RunBatchAsync("2024-01-01,1,10\n");
        _project.Workflow("load", """
            name: load
            steps:
              - id: batch
                type: read
                path: raw/batch.csv
                schema: { dt: DATE, id: VARCHAR, amount: BIGINT }
              - id: save
                type: write
                input: batch
                dataset: events
                mode: append
            """);

        var run = await _project.RunAsync("load");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("schema differs from dataset 'events'", run.Error);
        Assert.Contains("id BIGINT->VARCHAR", run.Error);
        Assert.Equal(1, (await _project.DatasetVersionAsync("events"))!.Version);
    }

    [Fact]
    public async Task Replace_partitions_keeps_untouched_partitions_and_replaces_touched_ones()
    {
        LoadBatchInto("mode: replace_partitions\n    partition_by: [dt]");

        var first = await RunBatchAsync("2024-01-01,1,10\n2024-01-01,2,20\n2024-01-02,3,30\n");
        var second = await RunBatchAsync("2024-01-02,30,300\n2024-01-02,31,310\n2024-01-03,40,400\n");

        Assert.Equal((1, 3L), (first.Version, first.Rows));
        Assert.Equal((2, 5L, "replace_partitions"), (second.Version, second.Rows, second.Operation));
        Assert.Equal([("2024-01-01", 1L), ("2024-01-01", 2L), ("2024-01-02", 30L), ("2024-01-02", 31L), ("2024-01-03", 40L)], await RowsAsync(2));
        // The untouched partition's files are shared, not rewritten.
        var untouched = first.Files.Where(f => f.Contains("dt=2024-01-01/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(untouched);
        Assert.All(untouched, f => Assert.Contains(f, second.Files));
        Assert.DoesNotContain(second.Files, f => first.Files.Contains(f) && f.Contains("dt=2024-01-02/", StringComparison.Ordinal));
        // The old version still reads as it was.
        Assert.Equal([("2024-01-01", 1L), ("2024-01-01", 2L), ("2024-01-02", 3L)], await RowsAsync(1));
    }

    [Fact]
    public async Task Partitioned_files_are_written_in_hive_folders_under_the_dataset()
    {
        LoadBatchInto("partition_by: [dt]");

        var version = await RunBatchAsync("2024-01-01,1,10\n2024-01-02,2,20\n");

        Assert.All(version.Files, f => Assert.Matches(@"^datasets/events/dt=2024-01-0[12]/[^/]+\.parquet$", f));
        Assert.All(version.Files, f => Assert.True(File.Exists(_project.LakePath(f)), f));
    }
}
