using Millrace.Engine;
using Millrace.Lake;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

/// <summary>
/// A landing file that changes between the listing (its size and time) and the read (a producer still writing it) is
/// not committed: the step fails saying so, nothing becomes visible and the watermark does not take it; the next run,
/// once the file has settled, reads all of it and records the size that was read.
/// </summary>
[Trait("Category", "Security")]
public sealed class UnsettledFileTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    const string File = "raw/orders/day1.csv";

    /// <summary>The lake's own storage, with a producer that changes <see cref="File"/> after the listing, just before DuckDB reads it.</summary>
    sealed class ProducerStillWriting(ILakeStorage inner, string path, Action<string> change) : ILakeStorage
    {
        int _changes;
        public string Location => inner.Location;
        public bool IsRemote => inner.IsRemote;
        public Task<IReadOnlyList<LakeFile>> ListAsync(string prefix, CancellationToken ct) => inner.ListAsync(prefix, ct);
        public Task<IReadOnlyList<string>> ListChildrenAsync(string prefix, string? startAfter, CancellationToken ct) => inner.ListChildrenAsync(prefix, startAfter, ct);
        public Task FetchAsync(IReadOnlyCollection<LakeFile> files, CancellationToken ct)
        {
            if (files.Any(f => f.Path == File) && Interlocked.Increment(ref _changes) == 1) change(path);
            return inner.FetchAsync(files, ct);
        }
        public Task FetchImmutableAsync(IReadOnlyCollection<string> paths, CancellationToken ct) => inner.FetchImmutableAsync(paths, ct);
        public Task UploadAsync(IReadOnlyCollection<string> paths, CancellationToken ct) => inner.UploadAsync(paths, ct);
        public Task<bool> MoveAsync(string from, string to, CancellationToken ct) => inner.MoveAsync(from, to, ct);
        public Task DeleteAsync(IReadOnlyCollection<string> paths, CancellationToken ct) => inner.DeleteAsync(paths, ct);
    }

    public static TheoryData<string> Changes => new(ChangeBy.Keys);

    static readonly Dictionary<string, Action<string>> ChangeBy = new()
    {
        ["rows appended"] = path => System.IO.File.AppendAllText(path, "3,30\n4,40\n"),
        ["rewritten at the same size"] = path =>
        {
            System.IO.File.WriteAllText(path, "order_id,amount\n1,11\n2,22\n");
            System.IO.File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(5));
        },
        ["replaced by rename"] = path =>
        {
            System.IO.File.WriteAllText(path + ".tmp", "order_id,amount\n1,10\n2,20\n3,30\n");
            System.IO.File.Move(path + ".tmp", path, overwrite: true);
        },
    };

    void Ingest() => _project.Workflow("ingest", """
        name: ingest
        steps:
          - id: orders
            type: read
            path: raw/orders/*.csv
            incremental: true
            schema: { order_id: BIGINT, amount: BIGINT }
          - id: history
            type: write
            input: orders
            dataset: orders
            mode: append
        """);

    async Task<Run> RunWhileProducerWritesAsync(Action<string> change)
    {
        var runner = new Runner(_project.Open(), await _project.StoreAsync())
        {
            DuckDbThreads = 2,
            OpenLake = project => new LakeRoot(project.LakeRoot, root => new ProducerStillWriting(new LocalLakeStorage(root), Path.Combine(root, File), change)),
        };
        return await runner.RunAsync(new RunRequest("ingest", []));
    }

    [Theory]
    [MemberData(nameof(Changes))]
    public async Task A_file_that_changes_between_listing_and_read_fails_the_step_and_is_not_watermarked(string change)
    {
        _project.LakeFile(File, "order_id,amount\n1,10\n2,20\n");
        Ingest();

        var run = await RunWhileProducerWritesAsync(ChangeBy[change]);

        Assert.Equal(RunStatus.Failed, run.Status);
        var error = (await _project.StepRunAsync(run.Id, "orders")).Error;
        Assert.Contains($"{File} changed while it was read", error);
        Assert.Contains("rename", error);
        Assert.Null(await _project.DatasetVersionAsync("orders"));
        Assert.Empty(await (await _project.StoreAsync()).GetWatermarkAsync("ingest", "orders", CancellationToken.None));
    }

    [Fact]
    public async Task Once_the_file_has_settled_the_next_run_reads_all_of_it_and_records_the_size_read()
    {
        _project.LakeFile(File, "order_id,amount\n1,10\n2,20\n");
        Ingest();
        Assert.Equal(RunStatus.Failed, (await RunWhileProducerWritesAsync(ChangeBy["rows appended"])).Status);

        var run = await _project.RunAsync("ingest");

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(4, (await _project.DatasetVersionAsync("orders"))!.Rows);
        var taken = (await (await _project.StoreAsync()).GetWatermarkAsync("ingest", "orders", CancellationToken.None))[File];
        Assert.Equal(new FileInfo(_project.LakePath(File)).Length, taken.Size);
    }
}
