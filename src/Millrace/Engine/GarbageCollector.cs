using Millrace.Definitions;
using Millrace.Lake;
using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>
/// What <see cref="GarbageCollector.CollectAsync"/> removed (or, in a dry run, would remove), and the runs it marked
/// (would mark) interrupted.
/// </summary>
public sealed record GarbageReport(IReadOnlyList<string> InterruptedRunIds, int DatasetFiles, int StagingFolders, int TempFolders, long Bytes)
{
    public int InterruptedRuns => InterruptedRunIds.Count;

    /// <summary>Committed files that could not be published (kept, with their staging folders; see <c>millrace publish list</c>).</summary>
    public int UnpublishedFiles { get; init; }
}

/// <summary>
/// Removes what crashed or failed runs left behind: dataset files no committed version lists, staging folders and
/// DuckDB spill folders of runs that are not running. Runs whose process died are first marked interrupted, and
/// committed files still in staging are published (rolled forward), never deleted. On an S3 lake the same rules apply
/// to the bucket (the counts are the bucket's) and to the local cache.
/// </summary>
public sealed class GarbageCollector(ProjectDefinition project, IMetadataStore store)
{
    public async Task<GarbageReport> CollectAsync(bool dryRun, CancellationToken ct)
    {
        // A dry run changes nothing, not even run records: it lists the runs a real gc would mark interrupted, and
        // counts their leftovers as a real gc (which marks them first) would.
        var runner = new Runner(project, store);
        var interrupted = (await runner.FindInterruptedAsync(ct)).Select(r => r.Run.Id).ToList();
        if (!dryRun) await runner.RecoverInterruptedAsync(ct);
        var lake = LakeRoot.Open(project);
        // A file that cannot be published is recorded and kept; it never stops the collection.
        if (!dryRun) await Publisher.PublishAsync(store, lake, null, ct);
        // The bucket is listed before the store is read: a run that uploads after the listing is not seen at all, and
        // one that uploaded before it is still running, or has committed, when the store is read below.
        var remoteDatasets = lake.Storage.IsRemote ? await lake.Storage.ListAsync("datasets/", ct) : [];
        var remoteStagingFiles = lake.Storage.IsRemote ? await lake.Storage.ListAsync("_staging/", ct) : [];
        var live = (await store.GetRunningRunsAsync(ct)).Select(r => r.Run.Id).Except(interrupted).ToHashSet(StringComparer.Ordinal);
        // Committed files not yet published (a publish that failed, a node that died) are rolled forward, never deleted.
        var unpublished = (await store.GetUnpublishedFilesAsync(ct)).Select(f => f.RunId).ToHashSet(StringComparer.Ordinal);
        var referenced = await store.GetReferencedDatasetFilesAsync(ct);
        bool Orphaned(LakeFile file) => file.Path.EndsWith(".parquet", StringComparison.Ordinal) && !referenced.Contains(file.Path)
            && !live.Any(id => Path.GetFileName(file.Path).Contains(id, StringComparison.Ordinal));
        bool Kept(string runId) => live.Contains(runId) || unpublished.Contains(runId);

        // The local folder: the lake itself, or the cache of an S3 lake (whose files are counted in the bucket below).
        var local = new LocalLakeStorage(lake.Root);
        var orphans = (await local.ListAsync("datasets/", ct)).Where(Orphaned).ToList();
        if (!dryRun) await local.DeleteAsync(orphans.Select(f => f.Path).ToList(), ct);
        var stagingFolders = new HashSet<string>(StringComparer.Ordinal);
        var (temp, tempBytes) = (0, 0L);
        foreach (var (root, isStaging) in new[] { (lake.StagingRoot, true), (Path.Combine(project.StateDirectory, "tmp"), false) })
        {
            if (!Directory.Exists(root)) continue;
            foreach (var folder in Directory.EnumerateDirectories(root))
            {
                if (Kept(Path.GetFileName(folder))) continue;
                var size = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
                if (isStaging) { stagingFolders.Add(Path.GetFileName(folder)); if (!lake.Storage.IsRemote) tempBytes += size; }
                else { temp++; tempBytes += size; }
                if (!dryRun) Directory.Delete(folder, recursive: true);
            }
        }
        var datasetFiles = orphans.Count;
        var bytes = tempBytes + (lake.Storage.IsRemote ? 0 : orphans.Sum(f => f.Size));

        if (lake.Storage.IsRemote)
        {
            var remoteOrphans = remoteDatasets.Where(Orphaned).ToList();
            var remoteStaging = remoteStagingFiles.Where(f => !Kept(f.Path.Split('/')[1])).ToList();
            if (!dryRun) await lake.Storage.DeleteAsync([.. remoteOrphans.Select(f => f.Path), .. remoteStaging.Select(f => f.Path)], ct);
            datasetFiles = remoteOrphans.Count;
            stagingFolders.UnionWith(remoteStaging.Select(f => f.Path.Split('/')[1]));
            bytes += remoteOrphans.Sum(f => f.Size) + remoteStaging.Sum(f => f.Size);
        }
        var datasets = Path.Combine(lake.Root, "datasets");
        if (!dryRun && Directory.Exists(datasets)) RemoveEmptyFolders(datasets);
        return new GarbageReport(interrupted, datasetFiles, stagingFolders.Count, temp, bytes) { UnpublishedFiles = (await store.GetUnpublishedFilesAsync(ct)).Count };
    }

    static void RemoveEmptyFolders(string root)
    {
        foreach (var folder in Directory.EnumerateDirectories(root))
        {
            RemoveEmptyFolders(folder);
            if (!Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
        }
    }
}
