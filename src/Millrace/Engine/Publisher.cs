using Millrace.Lake;
using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>
/// Moves committed output files from the staging folder to their final lake path. It runs after each commit and at
/// the start of each run, so a crash between the commit and the move is rolled forward, never lost.
/// </summary>
public static class Publisher
{
    public static async Task PublishAsync(IMetadataStore store, LakeRoot lake, string? runId, CancellationToken ct)
    {
        foreach (var (fileRunId, file) in await store.GetUnpublishedFilesAsync(ct))
        {
            if (runId is not null && fileRunId != runId) continue;
            var staging = lake.Resolve(file.StagingPath);
            var final = lake.Resolve(file.FinalPath);
            if (File.Exists(staging))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(final)!);
                File.Move(staging, final, overwrite: true);
            }
            // A missing staging file was moved before a crash that came ahead of this mark.
            await store.MarkPublishedAsync(fileRunId, file.StagingPath, ct);
        }
    }
}
