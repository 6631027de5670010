using Millrace.Lake;
using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>A committed output file that could not be moved to its final path, and why.</summary>
public sealed record PublishFailure(string RunId, StagedFile File, string Error, bool Transient);

/// <summary>
/// Moves committed output files from the staging folder to their final lake path. It runs after each commit and at
/// the start of each run, so a crash between the commit and the move is rolled forward, never lost. On an S3 lake the
/// staged files are in the bucket (uploaded before the commit), so any node rolls forward any node's commit.
/// A file that cannot be published is recorded with its reason and left waiting (<c>millrace publish list</c>); it
/// never stops the other files, the other runs, or <c>gc</c>.
/// </summary>
public static class Publisher
{
    /// <summary>
    /// Publishes the unpublished files of run <paramref name="runId"/> (of every run when null) and returns those
    /// that failed, each recorded in the store with its reason.
    /// </summary>
    public static async Task<IReadOnlyList<PublishFailure>> PublishAsync(IDatasetStore store, LakeRoot lake, string? runId, CancellationToken ct)
    {
        // Most calls (every run's start) find nothing to publish: then no write transaction is taken for it.
        if ((await store.GetUnpublishedFilesAsync(ct)).Count == 0) return [];
        // An older commit left unpublished (its node died, or its publish failed) never goes over a newer commit's file.
        await store.MarkSupersededFilesAsync(ct);
        var failures = new List<PublishFailure>();
        foreach (var (fileRunId, file) in await store.GetUnpublishedFilesAsync(ct))
        {
            if (runId is not null && fileRunId != runId) continue;
            try
            {
                lake.Resolve(file.StagingPath);
                lake.CheckPlaceable(file.FinalPath);
                // A missing staging file was moved before a crash that came ahead of this mark (or, on an S3 lake, by
                // another node rolling the same commit forward).
                await lake.Storage.MoveAsync(file.StagingPath, file.FinalPath, ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or LakePathException)
            {
                var failure = new PublishFailure(fileRunId, file, e.Message, e is LakeStorageException);
                failures.Add(failure);
                await store.RecordPublishFailureAsync(fileRunId, file.StagingPath, lake.Relativize(e.Message), ct);
                continue;
            }
            await store.MarkPublishedAsync(fileRunId, file.StagingPath, ct);
        }
        return failures;
    }

    /// <summary>
    /// Refuses, before the commit, outputs that could never be published: a final path a file system cannot hold
    /// (<see cref="LakeRoot.CheckPlaceable"/>), or two outputs of the commit where one would be the other's folder.
    /// </summary>
    public static void CheckPlaceable(LakeRoot lake, IReadOnlyList<StagedFile> files)
    {
        var finals = files.Select(f => LakePath.Fold(f.FinalPath)).ToHashSet(StringComparer.Ordinal);
        foreach (var file in files)
        {
            lake.CheckPlaceable(file.FinalPath);
            var folded = LakePath.Fold(file.FinalPath);
            for (var slash = folded.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = folded.IndexOf('/', slash + 1))
                if (finals.Contains(folded[..slash]))
                    throw new LakePathException($"outputs '{folded[..slash]}' and '{folded}' cannot both be written: the first would have to be a file and a folder");
        }
    }
}
