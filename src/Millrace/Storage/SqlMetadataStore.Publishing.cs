using static Millrace.Storage.Sql.SqlHelper;

namespace Millrace.Storage;

public abstract partial class SqlMetadataStore
{
    public async Task RecordPublishFailureAsync(string runId, string stagingPath, string error, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, "UPDATE published_files SET publish_error = @error WHERE run_id = @run AND staging_path = @path", ct,
            ("error", error), ("run", runId), ("path", stagingPath));
    }

    public async Task<IReadOnlyList<UnpublishedFile>> FindUnpublishedFilesAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        // In commit order, so that when two commits publish one path, the later one's file is the one left there.
        await using var command = Command(connection, null, """
            SELECT p.run_id, p.workflow, p.staging_path, p.final_path, w.committed_at, p.publish_error FROM published_files p
            LEFT JOIN workflow_runs w ON w.run_id = p.run_id AND w.workflow = p.workflow
            WHERE p.published_at IS NULL ORDER BY w.committed_at, p.run_id, p.staging_path
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<UnpublishedFile>();
        while (await reader.ReadAsync(ct))
            result.Add(new UnpublishedFile(reader.GetString(0), reader.GetString(1), new StagedFile(reader.GetString(2), reader.GetString(3)),
                NullableTime(reader, 4), NullableString(reader, 5)));
        return result;
    }

    public async Task<IReadOnlyList<StagedFile>> DiscardUnpublishedFilesAsync(string runId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        var files = new List<StagedFile>();
        await using (var select = Command(connection, transaction,
            "SELECT staging_path, final_path FROM published_files WHERE run_id = @run AND published_at IS NULL ORDER BY staging_path", ("run", runId)))
        await using (var reader = await select.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) files.Add(new StagedFile(reader.GetString(0), reader.GetString(1)));
        var now = Time(Database.Clock.GetUtcNow());
        await ExecuteAsync(connection, transaction, "UPDATE published_files SET published_at = @at, discarded_at = @at WHERE run_id = @run AND published_at IS NULL", ct,
            ("at", now), ("run", runId));
        await transaction.CommitAsync(ct);
        return files;
    }
}
