using Millrace.Engine;
using Millrace.Internal;
using Millrace.Lake;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Quality;

/// <summary>
/// Writes rows that failed a rule, with the reason, to <c>quarantine/&lt;name&gt;/&lt;run&gt;/&lt;step&gt;.parquet</c>.
/// The file is staged and published by the run's commit, like any output: a quarantined row is accounted for,
/// so the watermark may pass its file, and it is never lost.
/// </summary>
public static class Quarantine
{
    /// <summary>Quarantines the rows of <paramref name="relation"/> (which must have a <c>_reason</c> column); returns the lake path.</summary>
    public static async Task<string> WriteAsync(StepContext context, string name, string relation, CancellationToken ct)
    {
        var staging = Path.Combine(context.Lake.StagingRoot, context.RunId, context.Workflow, context.Step.Id, "quarantine.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(staging)!);
        await DuckDb.ExecuteAsync(context.Connection, $"COPY (SELECT * FROM {relation}) TO {SqlText.Quote(staging)} (FORMAT parquet)", ct);
        var final = $"quarantine/{name}/{context.RunId}/{context.Step.Id}.parquet";
        if (!LakePath.Fold(final).StartsWith("quarantine/", StringComparison.Ordinal))
            throw new LakePathException($"quarantine path '{final}' leaves quarantine/; name a folder under it");
        context.Commit.AddStagedFile(new StagedFile(context.Lake.ToRelative(staging), final));
        return final;
    }
}
