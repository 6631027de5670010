using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Datasets;

/// <summary>
/// How a workflow sees a dataset input: a view over its version's files that skips partitions a query filters out
/// (before opening their files), keeps each column's type, and reads files of an older schema by name.
/// </summary>
public sealed class DatasetViewTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    async Task<DatasetVersion> WriteAsync(string schema, string csv, string options)
    {
        _project.Workflow("load", $"""
            name: load
            steps:
              - id: batch
                type: read
                path: raw/batch.csv
                schema: {schema}
              - id: save
                type: write
                input: batch
                dataset: events
                {options}
            """);
        _project.LakeFile("raw/batch.csv", csv);
        var run = await _project.RunAsync("load");
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        return (await _project.DatasetVersionAsync("events"))!;
    }

    /// <summary>Runs <paramref name="sql"/> in a sql step over the dataset input <c>events</c>; returns its rows.</summary>
    async Task<(Run Run, IReadOnlyList<object?[]> Rows)> AskAsync(string sql)
    {
        _project.Workflow("ask", $"""
            name: ask
            steps:
              - id: answer
                type: sql
                inputs: [events]
                sql: {sql}
              - id: keep
                type: write
                input: answer
                dataset: answer
                mode: overwrite
            """);
        var run = await _project.RunAsync("ask");
        return (run, run.Status == RunStatus.Succeeded ? await _project.QueryDatasetAsync("answer", "SELECT * FROM {dataset} ORDER BY ALL") : []);
    }

    [Fact]
    public async Task A_query_filtered_on_the_partition_column_does_not_open_the_other_partitions_files()
    {
        var version = await WriteAsync("{ dt: DATE, id: BIGINT }", "dt,id\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n", "partition_by: [dt]");
        // A file that cannot be opened: only a query that reads its partition notices.
        foreach (var file in version.Files.Where(f => f.Contains("dt=2024-01-02/", StringComparison.Ordinal))) File.WriteAllText(_project.LakePath(file), "not parquet");

        var (filtered, rows) = await AskAsync("SELECT id FROM events WHERE dt = DATE '2024-01-03'");
        var (unfiltered, _) = await AskAsync("SELECT id FROM events");

        Assert.True(filtered.Status == RunStatus.Succeeded, filtered.Error);
        Assert.Equal([3L], rows.Select(r => (long)r[0]!));
        Assert.Equal(RunStatus.Failed, unfiltered.Status); // the broken file is read there: the test can fail
    }

    [Fact]
    public async Task Partition_values_keep_their_column_type_and_text()
    {
        await WriteAsync("{ code: VARCHAR, id: BIGINT }", "code,id\n007,1\n10,2\na b/c,3\n", "partition_by: [code]");

        var (run, rows) = await AskAsync("SELECT code, typeof(code) AS type, id FROM events WHERE code IN ('007', 'a b/c')");

        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        Assert.Equal([("007", "VARCHAR", 1L), ("a b/c", "VARCHAR", 3L)], rows.Select(r => ((string)r[0]!, (string)r[1]!, (long)r[2]!)));
    }

    [Fact]
    public async Task Files_of_an_older_schema_read_by_name_with_nulls_for_added_columns()
    {
        var first = await WriteAsync("{ dt: DATE, id: BIGINT }", "dt,id\n2024-01-01,1\n", "mode: append\n    partition_by: [dt]\n    on_schema_change: evolve");
        var evolved = await WriteAsync("{ note: VARCHAR, id: BIGINT, dt: DATE }", "note,id,dt\nhello,2,2024-01-02\n", "mode: append\n    partition_by: [dt]\n    on_schema_change: evolve");

        var (run, rows) = await AskAsync("SELECT id, note FROM events");

        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        Assert.Equal([(1L, (string?)null), (2L, "hello")], rows.Select(r => ((long)r[0]!, r[1] as string)));
        Assert.True(first.UniformSchema);
        Assert.False(evolved.UniformSchema);
        var rewritten = await WriteAsync("{ dt: DATE, id: BIGINT, note: VARCHAR }", "dt,id,note\n2024-01-03,3,x\n", "mode: overwrite\n    partition_by: [dt]");
        Assert.True(rewritten.UniformSchema);
    }

    [Fact]
    public async Task A_bucketed_dataset_shows_its_columns_without_the_bucket()
    {
        _project.Workflow("merge", """
            name: merge
            steps:
              - id: batch
                type: read
                path: raw/batch.csv
                schema: { id: BIGINT, name: VARCHAR }
              - id: events
                type: merge
                input: batch
                into: events
                key: [id]
                buckets: 4
            """);
        _project.LakeFile("raw/batch.csv", "id,name\n1,a\n2,b\n3,c\n");
        var merged = await _project.RunAsync("merge");
        Assert.True(merged.Status == RunStatus.Succeeded, merged.Error);

        var (run, rows) = await AskAsync("SELECT * FROM events WHERE id = 2");

        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        Assert.Equal(["2", "b"], rows.Single().Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)));
    }
}
