using Millrace.Definitions;
using Millrace.Lake;
using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>What <see cref="GarbageCollector.CollectAsync"/> removed.</summary>
public sealed record GarbageReport(int InterruptedRuns, int DatasetFiles, int StagingFolders, int TempFolders, long Bytes);

/// <summary>
/// Removes what crashed or failed runs left behind: dataset files no committed version lists, staging folders and
/// DuckDB spill folders of runs that are not running. Runs whose process died are first marked interrupted, and
/// committed files still in staging are published (rolled forward), never deleted.
/// </summary>
public sealed class GarbageCollector(ProjectDefinition project, IMetadataStore store)
{
    public async Task<GarbageReport> CollectAsync(bool dryRun, CancellationToken ct)
    {
        var interrupted = dryRun ? 0 : await new Runner(project, store).RecoverInterruptedAsync(ct);
        var lake = new LakeRoot(project.LakeRoot);
        if (!dryRun) await Publisher.PublishAsync(store, lake, null, ct);
        var live = (await store.GetRunningRunsAsync(ct)).Select(r => r.Run.Id).ToHashSet(StringComparer.Ordinal);
        var referenced = await store.GetReferencedDatasetFilesAsync(ct);
        long bytes = 0;
        int files = 0, staging = 0, temp = 0;

        var datasets = Path.Combine(lake.Root, "datasets");
        if (Directory.Exists(datasets))
            foreach (var file in Directory.EnumerateFiles(datasets, "*.parquet", SearchOption.AllDirectories))
            {
                var relative = lake.ToRelative(file);
                if (referenced.Contains(relative) || live.Any(id => Path.GetFileName(file).Contains(id, StringComparison.Ordinal))) continue;
                bytes += new FileInfo(file).Length;
                files++;
                if (!dryRun) File.Delete(file);
            }

        foreach (var (root, count) in new[] { (lake.StagingRoot, 0), (Path.Combine(project.StateDirectory, "tmp"), 1) })
        {
            if (!Directory.Exists(root)) continue;
            foreach (var folder in Directory.EnumerateDirectories(root))
            {
                if (live.Contains(Path.GetFileName(folder))) continue;
                bytes += Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
                if (count == 0) staging++; else temp++;
                if (!dryRun) Directory.Delete(folder, recursive: true);
            }
        }
        if (!dryRun && Directory.Exists(datasets)) RemoveEmptyFolders(datasets);
        return new GarbageReport(interrupted, files, staging, temp, bytes);
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
