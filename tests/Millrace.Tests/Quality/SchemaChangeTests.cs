using Millrace.Storage;
using Millrace.Tests.TestSupport;
using static Millrace.Tests.Quality.QualityProject;

namespace Millrace.Tests.Quality;

/// <summary>
/// A batch whose columns differ from the dataset's current version, into a merge or an append/replace_partitions
/// write: a <c>schema_change</c> anomaly naming each difference; the run fails by default; with
/// <c>on_schema_change: evolve</c> the new version gains the new column (NULL in old rows) and keeps a removed one
/// (NULL in new rows); a column that changed type fails even under evolve.
/// </summary>
public sealed class SchemaChangeTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    const string First = "customer_id,region,spend,dt\n1,north,10,2026-01-01\n2,south,20,2026-01-01\n";
    const string Added = "customer_id,region,spend,referral_code,dt\n2,south,25,R2,2026-01-02\n3,east,30,R3,2026-01-02\n";
    const string Removed = "customer_id,spend,dt\n2,26,2026-01-02\n4,40,2026-01-02\n";
    const string Retyped = "customer_id,region,spend,dt\n5,west,lots,2026-01-02\n";

    /// <summary>Workflow <c>ingest</c>: read <c>raw/batch.csv</c>, then <paramref name="sink"/> (a merge or write step over it).</summary>
    void Ingest(string sink) => _project.Workflow("ingest", $"""
        name: ingest
        steps:
          - id: batch
            type: read
            path: raw/batch.csv
          - id: save
            input: batch
        {LearningProject.Indent(sink, "    ")}
        """);

    static string Merge(string policy = "") => "type: merge\ninto: customers\nkey: [customer_id]" + (policy.Length == 0 ? "" : $"\non_schema_change: {policy}");

    static string Write(string mode, string policy = "") =>
        $"type: write\ndataset: customers\nmode: {mode}" + (mode == "replace_partitions" ? "\npartition_by: [dt]" : "") + (policy.Length == 0 ? "" : $"\non_schema_change: {policy}");

    async Task<Run> BatchAsync(string csv)
    {
        _project.LakeFile("raw/batch.csv", csv);
        return await _project.RunAsync("ingest");
    }

    async Task<IReadOnlyList<string>> ColumnsAsync(int? version = null) =>
        (await _project.DatasetVersionAsync("customers", version))!.Schema.Select(c => c.Name).ToList();

    async Task<IReadOnlyList<(long Id, string? Region, string? Referral)>> RowsAsync() =>
        (await _project.QueryDatasetAsync("customers", "SELECT customer_id, region, referral_code FROM {dataset} ORDER BY customer_id, referral_code NULLS FIRST"))
            .Select(r => (Long(r[0]), (string?)r[1], (string?)r[2])).ToList();

    public static TheoryData<string, string> Sinks => new()
    {
        { "merge", Merge() },
        { "append", Write("append") },
        { "replace_partitions", Write("replace_partitions") },
    };

    [Theory]
    [MemberData(nameof(Sinks))]
    public async Task An_added_column_fails_by_default_with_a_schema_change_anomaly(string kind, string sink)
    {
        Ingest(sink);
        Assert.Equal(RunStatus.Succeeded, (await BatchAsync(First)).Status);

        var run = await BatchAsync(Added);

        Assert.True(run.Status == RunStatus.Failed, kind);
        var anomaly = await _project.SingleAnomalyAsync(run.Id, "schema_change");
        Assert.Equal((AnomalySeverity.Error, "fail", "save"), (anomaly.Severity, anomaly.Policy, anomaly.StepId));
        Assert.Equal("the batch's schema differs from dataset 'customers': +referral_code VARCHAR", anomaly.Message);
        var details = DetailsOf(anomaly);
        Assert.Equal(["referral_code"], details.GetProperty("added").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(0, details.GetProperty("removed").GetArrayLength());
        var error = (await _project.StepRunAsync(run.Id, "save")).Error;
        Assert.StartsWith("the input's schema differs from dataset 'customers' (+referral_code VARCHAR); ", error);
        Assert.Contains("on_schema_change: evolve", error);
        Assert.Equal(1, (await _project.DatasetVersionAsync("customers"))!.Version);
        Assert.Equal(["customer_id", "region", "spend", "dt"], await ColumnsAsync());
    }

    [Theory]
    [MemberData(nameof(Sinks))]
    public async Task Under_evolve_an_added_column_joins_the_schema_and_old_rows_read_null(string kind, string sink)
    {
        Ingest(sink + "\non_schema_change: evolve");
        await BatchAsync(First);

        var run = await BatchAsync(Added);

        Assert.True(run.Status == RunStatus.Succeeded, $"{kind}: {run.Error}");
        var anomaly = await _project.SingleAnomalyAsync(run.Id, "schema_change");
        Assert.Equal((AnomalySeverity.Warning, "evolve"), (anomaly.Severity, anomaly.Policy));
        Assert.EndsWith("+referral_code VARCHAR; the dataset schema evolves", anomaly.Message);
        var version = (await _project.DatasetVersionAsync("customers"))!;
        Assert.Equal(2, version.Version);
        Assert.Equal(["customer_id", "region", "spend", "dt", "referral_code"], version.Schema.Select(c => c.Name));
        Assert.Equal("VARCHAR", version.Schema.Single(c => c.Name == "referral_code").Type);
        var rows = await RowsAsync();
        var expected = kind switch
        {
            "merge" => new[] { (1L, "north", (string?)null), (2L, "south", "R2"), (3L, "east", "R3") },                                       // 2 updated
            _ => [(1L, "north", null), (2L, "south", null), (2L, "south", "R2"), (3L, "east", "R3")],                                          // appended / other partition
        };
        Assert.Equal(expected.Select(e => (e.Item1, (string?)e.Item2, e.Item3)), rows);
        // The old version still reads as it was.
        Assert.Equal(["customer_id", "region", "spend", "dt"], await ColumnsAsync(1));
    }

    [Theory]
    [MemberData(nameof(Sinks))]
    public async Task Under_evolve_a_removed_column_stays_and_is_null_in_new_rows(string kind, string sink)
    {
        Ingest(sink + "\non_schema_change: evolve");
        await BatchAsync(First);

        var run = await BatchAsync(Removed);

        Assert.True(run.Status == RunStatus.Succeeded, $"{kind}: {run.Error}");
        Assert.EndsWith("-region; the dataset schema evolves", (await _project.SingleAnomalyAsync(run.Id, "schema_change")).Message);
        Assert.Equal(["customer_id", "region", "spend", "dt"], await ColumnsAsync());
        var regions = (await _project.QueryDatasetAsync("customers", "SELECT customer_id, region, spend FROM {dataset} ORDER BY customer_id, spend"))
            .Select(r => (Long(r[0]), (string?)r[1], Long(r[2]))).ToList();
        var expected = kind == "merge"
            ? new[] { (1L, "north", 10L), (2L, (string?)null, 26L), (4L, null, 40L) }
            : [(1L, "north", 10L), (2L, "south", 20L), (2L, null, 26L), (4L, null, 40L)];
        Assert.Equal(expected.Select(e => (e.Item1, (string?)e.Item2, e.Item3)), regions);
    }

    [Theory]
    [MemberData(nameof(Sinks))]
    public async Task A_removed_column_fails_by_default(string kind, string sink)
    {
        Ingest(sink);
        await BatchAsync(First);

        var run = await BatchAsync(Removed);

        Assert.True(run.Status == RunStatus.Failed, kind);
        Assert.Equal("the batch's schema differs from dataset 'customers': -region", (await _project.SingleAnomalyAsync(run.Id, "schema_change")).Message);
    }

    [Theory]
    [MemberData(nameof(Sinks))]
    public async Task A_retyped_column_fails_even_under_evolve(string kind, string sink)
    {
        Ingest(sink + "\non_schema_change: evolve");
        await BatchAsync(First);

        var run = await BatchAsync(Retyped);

        Assert.True(run.Status == RunStatus.Failed, kind);
        var anomaly = await _project.SingleAnomalyAsync(run.Id, "schema_change");
        Assert.Equal((AnomalySeverity.Error, "fail"), (anomaly.Severity, anomaly.Policy));
        Assert.Equal("the batch's schema differs from dataset 'customers': spend BIGINT->VARCHAR", anomaly.Message);
        Assert.Equal(["spend"], DetailsOf(anomaly).GetProperty("retyped").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("the input's schema differs from dataset 'customers' (spend BIGINT->VARCHAR); a column changed type, which cannot evolve: cast it in SQL",
            (await _project.StepRunAsync(run.Id, "save")).Error);
        Assert.Equal(1, (await _project.DatasetVersionAsync("customers"))!.Version);
    }

    [Theory]
    [MemberData(nameof(Sinks))]
    public async Task The_same_columns_in_another_order_are_no_schema_change(string kind, string sink)
    {
        Ingest(sink);
        await BatchAsync(First);

        var run = await BatchAsync("dt,spend,region,customer_id\n2026-01-03,70,west,7\n");

        Assert.True(run.Status == RunStatus.Succeeded, $"{kind}: {run.Error}");
        Assert.Empty(await _project.AnomaliesOfAsync(run.Id));
        Assert.Contains((7L, "west", null), await RowsAsyncWithoutReferral());
    }

    async Task<IReadOnlyList<(long, string?, string?)>> RowsAsyncWithoutReferral() =>
        (await _project.QueryDatasetAsync("customers", "SELECT customer_id, region, NULL::VARCHAR FROM {dataset} ORDER BY customer_id"))
            .Select(r => (Long(r[0]), (string?)r[1], (string?)r[2])).ToList();

    [Fact]
    public async Task Overwrite_replaces_the_schema_without_a_schema_change()
    {
        Ingest(Write("overwrite"));
        await BatchAsync(First);

        var run = await BatchAsync(Added);

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Empty(await _project.AnomaliesOfAsync(run.Id));
        Assert.Equal(["customer_id", "region", "spend", "referral_code", "dt"], await ColumnsAsync());
    }

    [Fact]
    public async Task An_evolved_schema_is_the_new_baseline()
    {
        Ingest(Merge("evolve"));
        await BatchAsync(First);
        await BatchAsync(Added);

        var same = await BatchAsync("customer_id,region,spend,referral_code,dt\n9,north,90,R9,2026-01-03\n");

        Assert.Equal(RunStatus.Succeeded, same.Status);
        Assert.Empty(await _project.AnomaliesOfAsync(same.Id));
        Assert.Equal(3, (await _project.DatasetVersionAsync("customers"))!.Version);
    }

    [Fact]
    public void On_schema_change_must_be_fail_or_evolve()
    {
        Ingest(Merge("grow"));
        var merge = DefinitionAssert.Single(_project.Check(), "on_schema_change must be fail or evolve, got 'grow'");
        Assert.Equal((11, 23), (merge.Location.Line, merge.Location.Column));

        Ingest(Write("append", "sometimes"));
        DefinitionAssert.Single(_project.Check(), "on_schema_change must be fail or evolve, got 'sometimes'");
    }

    [Theory]
    [MemberData(nameof(Sinks))]
    public async Task A_header_only_batch_read_without_a_schema_is_no_schema_change(string kind, string sink)
    {
        Ingest(sink);
        Assert.Equal(RunStatus.Succeeded, (await BatchAsync(First)).Status);

        // No rows, so DuckDB reads every column as VARCHAR: an empty batch has nothing to disagree with.
        var run = await BatchAsync("customer_id,region,spend,dt\n");

        Assert.True(run.Status == RunStatus.Succeeded, $"{kind}: {run.Error}");
        Assert.Empty(await _project.AnomaliesOfAsync(run.Id));
        var latest = (await _project.DatasetVersionAsync("customers"))!;
        Assert.Equal("BIGINT", latest.Schema.Single(c => c.Name == "customer_id").Type);
        Assert.Equal([(1L, "north", (string?)null), (2L, "south", null)], await RowsWithoutReferralAsync());
    }

    [Fact]
    public async Task A_bucketed_merge_after_an_evolution_reads_old_buckets_without_the_new_column()
    {
        Ingest(Merge("evolve").Replace("key: [customer_id]", "key: [customer_id]\nbuckets: 8"));
        Assert.Equal(RunStatus.Succeeded, (await BatchAsync(First)).Status);
        // A new customer in a bucket of its own: the bucket files of 1 and 2 keep the old columns.
        var newcomer = Enumerable.Range(3, 100).First(id => Bucket(id) != Bucket(1) && Bucket(id) != Bucket(2));
        Assert.Equal(RunStatus.Succeeded, (await BatchAsync($"customer_id,region,spend,referral_code,dt\n{newcomer},east,30,R3,2026-01-02\n")).Status);

        // Now a change to customer 1, whose bucket file was written before referral_code existed.
        var run = await BatchAsync("customer_id,region,spend,referral_code,dt\n1,north,11,R1,2026-01-03\n");

        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        Assert.Equal([(1L, "north", "R1"), (2L, "south", null), (newcomer, "east", "R3")], await RowsAsync());
    }

    /// <summary>The merge's bucket of a one-column key, as the merge step computes it.</summary>
    static long Bucket(long id)
    {
        using var connection = new DuckDB.NET.Data.DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT CAST(md5_number(concat_ws('|', CAST({id} AS VARCHAR))) % 8 AS BIGINT)";
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    async Task<IReadOnlyList<(long Id, string? Region, string? Referral)>> RowsWithoutReferralAsync() =>
        (await _project.QueryDatasetAsync("customers", "SELECT customer_id, region FROM {dataset} ORDER BY customer_id"))
            .Select(r => (Long(r[0]), (string?)r[1], (string?)null)).ToList();
}
