using Millrace.Lake;
using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>
/// Moves committed output files from the staging folder to their final lake path. It runs after each commit and at
/// the start of each run, so a crash between the commit and the move is rolled forward, never lost. On an S3 lake the
/// staged files are in the bucket (uploaded before the commit), so any node rolls forward any node's commit.
/// </summary>
public static class Publisher
{
    public static async Task PublishAsync(IMetadataStore store, LakeRoot lake, string? runId, CancellationToken ct)
    {
        // Most calls (every run's start) find nothing to publish: then no write transaction is taken for it.
        if ((await store.GetUnpublishedFilesAsync(ct)).Count == 0) return;
        // An older commit left unpublished (its node died, or its publish failed) never goes over a newer commit's file.
        await store.MarkSupersededFilesAsync(ct);
        foreach (var (fileRunId, file) in await store.GetUnpublishedFilesAsync(ct))
        {
            if (runId is not null && fileRunId != runId) continue;
            lake.Resolve(file.StagingPath);
            lake.Resolve(file.FinalPath);
            // A missing staging file was moved before a crash that came ahead of this mark (or, on an S3 lake, by
            // another node rolling the same commit forward).
            await lake.Storage.MoveAsync(file.StagingPath, file.FinalPath, ct);
            await store.MarkPublishedAsync(fileRunId, file.StagingPath, ct);
        }
    }
}
