using System.Globalization;
using DuckDB.NET.Data;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Lake;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Steps;

/// <summary>
/// How <see cref="ReadStep"/> accounts for every file it takes: each non-empty file yields rows or rejected rows, or
/// it is an error (under <c>on_error: quarantine</c>, the file is quarantined whole with its reason); and a file that
/// changed while it was read (a producer still writing it) fails the step, so a run never commits half a file.
/// </summary>
public sealed partial class ReadStep
{
    /// <summary>The column DuckDB fills with each row's file: which file yielded what is counted from it, then it is dropped.</summary>
    const string SourceColumn = "__millrace_file";

    /// <summary>A file that cannot be taken as it is, and why.</summary>
    sealed record SetAside(LakeFile File, string Reason);

    /// <summary>
    /// Reads <paramref name="files"/> (already fetched) into the output table and returns its row count. Files that
    /// are broken (a truncated gzip, a sniff or decode failure, a file that yields nothing) fail the step or, under
    /// <c>on_error: quarantine</c>, are set aside whole; the rest are read.
    /// </summary>
    async Task<long> LoadAsync(StepContext context, List<LakeFile> files, string format, string pattern, Dictionary<string, object?> details, CancellationToken ct)
    {
        var setAside = new List<SetAside>();
        foreach (var file in files)
            if (LandingFiles.Problem(context.Lake.Resolve(file.Path), format) is { } reason) setAside.Add(new(file, reason));
        var remaining = files.Where(f => !setAside.Any(s => s.File == f)).ToList();
        Refuse(setAside);
        while (remaining.Count > 0)
        {
            var failure = await TryCreateOutputAsync(context, remaining, format, pattern, ct);
            if (failure is null) break;
            // Quarantine: find the files that cannot be read even alone, set them aside and read the rest again.
            var failing = await ProbeAsync(context, remaining, format, pattern, ct);
            if (failing.Count == 0) throw failure;
            setAside.AddRange(failing);
            remaining.RemoveAll(f => failing.Any(s => s.File == f));
            await DuckDb.ExecuteAsync(context.Connection, $"DROP TABLE IF EXISTS __rejects_{StepToken}; DROP TABLE IF EXISTS __rejects_scan_{StepToken};", ct);
        }
        CheckSettled(context, files);
        if (remaining.Count == 0)
        {
            if (Schema is null)
                throw new StepFailedException($"no file could be read, e.g. {setAside[0].File.Path}: {setAside[0].Reason}; " +
                    "add a 'schema' so that a batch whose every file is quarantined reads as an empty table");
            await DuckDb.ExecuteAsync(context.Connection, EmptyTable(context.OutputTable, pattern), ct);
        }
        else
        {
            var empty = await FilesWithoutRowsAsync(context, remaining, format, ct);
            Refuse(empty);
            setAside.AddRange(empty);
            await FinishSourceColumnAsync(context, ct);
            if (QuarantineErrors && format == "csv") await QuarantineRejectsAsync(context, details, ct);
        }
        if (setAside.Count > 0) await QuarantineFilesAsync(context, setAside, details, ct);
        details["files"] = remaining.Select(f => f.Path).ToList();
        details["bytes"] = remaining.Sum(f => f.Size);
        return await DuckDb.CountAsync(context.Connection, context.OutputTable, ct);
    }

    /// <summary>Under the default <c>on_error: fail</c>, the first file set aside fails the step, named with its reason.</summary>
    void Refuse(IReadOnlyList<SetAside> setAside)
    {
        if (setAside.Count == 0 || QuarantineErrors) return;
        var first = setAside[0];
        throw new StepFailedException($"{first.File.Path}: {first.Reason}{(setAside.Count > 1 ? $" (and {setAside.Count - 1} more file(s))" : "")}; " +
            "nothing was committed and the file is not marked as read: fix or remove it, or set on_error: quarantine to set such files aside");
    }

    /// <summary>Creates the output table from <paramref name="files"/>; returns the failure when quarantine may still set files aside, else throws it located.</summary>
    async Task<StepFailedException?> TryCreateOutputAsync(StepContext context, IReadOnlyList<LakeFile> files, string format, string pattern, CancellationToken ct)
    {
        var absolute = files.Select(f => context.Lake.Resolve(f.Path)).ToList();
        var delimiter = format == "csv" ? Delimiter ?? await SniffDelimiterAsync(context.Connection, absolute[0], ct) : null;
        try
        {
            await DuckDb.ExecuteAsync(context.Connection, $"CREATE TABLE {context.OutputTable} AS {Source(format, absolute, pattern, delimiter)}", ct);
            return null;
        }
        catch (DuckDBException e)
        {
            var (message, named) = (e.Message, (IReadOnlyList<string>)absolute);
            if (format == "csv" && delimiter is not null
                && (message.Contains("Error when sniffing", StringComparison.Ordinal) || (absolute.Count > 1 && !absolute.Any(f => message.Contains(f, StringComparison.Ordinal))))
                && await LocateCsvErrorAsync(context.Connection, absolute, delimiter, ct) is { } located)
                (message, named) = (located.Message, [located.File]);
            else if (named.Count > 1 && !named.Any(f => message.Contains(f, StringComparison.Ordinal))
                && await ProbeAsync(context, files, format, pattern, ct) is [var failing, ..])
                (message, named) = (failing.Reason, [context.Lake.Resolve(failing.File.Path)]);
            var failure = new StepFailedException(DescribeReadError(message, context.Lake, format, named), e);
            return QuarantineErrors ? failure : throw failure;
        }
    }

    /// <summary>Reads each file alone (its own delimiter sniffed) and returns those that fail, with DuckDB's reason.</summary>
    async Task<IReadOnlyList<SetAside>> ProbeAsync(StepContext context, IReadOnlyList<LakeFile> files, string format, string pattern, CancellationToken ct)
    {
        var failing = new List<SetAside>();
        foreach (var file in files)
        {
            var absolute = context.Lake.Resolve(file.Path);
            var delimiter = format == "csv" ? Delimiter ?? await SniffDelimiterAsync(context.Connection, absolute, ct) : null;
            try
            {
                // LIMIT 0 would stop before a bad row; counting reads the whole file. Rejected rows are not errors here.
                var source = Source(format, [absolute], pattern, delimiter).Replace($"'__rejects_{StepToken}'", "'__probe_rejects'", StringComparison.Ordinal)
                    .Replace($"'__rejects_scan_{StepToken}'", "'__probe_rejects_scan'", StringComparison.Ordinal);
                await DuckDb.ScalarAsync<long>(context.Connection, $"SELECT count(*) FROM ({source})", ct);
            }
            catch (DuckDBException e)
            {
                failing.Add(new(file, $"cannot be read: {DescribeReadError(e.Message, context.Lake, format, [absolute]).Replace(file.Path + ": ", "", StringComparison.Ordinal)}"));
            }
        }
        await DuckDb.ExecuteAsync(context.Connection, "DROP TABLE IF EXISTS __probe_rejects; DROP TABLE IF EXISTS __probe_rejects_scan;", ct);
        return failing;
    }

    /// <summary>
    /// The non-empty files that yielded no row and no rejected row and are not a well-formed empty table (a CSV header
    /// alone, a JSON <c>[]</c>, a Parquet file without rows): an unbalanced quote, NUL bytes, UTF-16 text.
    /// </summary>
    async Task<IReadOnlyList<SetAside>> FilesWithoutRowsAsync(StepContext context, IReadOnlyList<LakeFile> files, string format, CancellationToken ct)
    {
        var yielded = new HashSet<string>(StringComparer.Ordinal);
        using (var command = context.Connection.CreateCommand())
        {
            command.CommandText = $"SELECT DISTINCT {SourceColumn} FROM {context.OutputTable}";
            if (QuarantineErrors && format == "csv")
                command.CommandText += $" UNION SELECT DISTINCT s.file_path FROM __rejects_{StepToken} e JOIN __rejects_scan_{StepToken} s ON s.scan_id = e.scan_id AND s.file_id = e.file_id";
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) yielded.Add(reader.GetString(0));
        }
        var empty = new List<SetAside>();
        foreach (var file in files)
        {
            var absolute = context.Lake.Resolve(file.Path);
            if (yielded.Contains(absolute)) continue;
            if (LandingFiles.WhyNoRows(absolute, format, Header) is { } reason)
                empty.Add(new(file, $"a non-empty file ({file.Size.ToString(CultureInfo.InvariantCulture)} bytes) gave no row and no rejected row: {reason}"));
        }
        return empty;
    }

    /// <summary>Drops the row-source column, or, with <c>filename: true</c>, keeps it as <c>filename</c> with lake paths.</summary>
    async Task FinishSourceColumnAsync(StepContext context, CancellationToken ct) =>
        await DuckDb.ExecuteAsync(context.Connection, Filename
            ? $"ALTER TABLE {context.OutputTable} RENAME COLUMN {SourceColumn} TO filename; UPDATE {context.OutputTable} SET filename = substr(filename, {context.Lake.Root.Length + 2});"
            : $"ALTER TABLE {context.OutputTable} DROP COLUMN {SourceColumn};", ct);

    /// <summary>
    /// Fails the step when a file read is no longer the file listed: its size or time changed, so a producer was still
    /// writing it and DuckDB may have read part of it. Nothing commits; the next run reads it once it has settled.
    /// </summary>
    void CheckSettled(StepContext context, IReadOnlyList<LakeFile> files)
    {
        foreach (var file in files)
        {
            var now = new FileInfo(context.Lake.Resolve(file.Path));
            var (size, modified) = now.Exists ? (now.Length, new DateTimeOffset(now.LastWriteTimeUtc, TimeSpan.Zero)) : (-1, DateTimeOffset.MinValue);
            if (size == file.Size && modified == file.Modified) continue;
            throw new StepFailedException($"{file.Path} changed while it was read ({Identity(file.Size, file.Modified, null)} when listed, " +
                $"{(size < 0 ? "gone" : Identity(size, modified, null))} after): it is still being written, so nothing was committed and it is not marked as read; " +
                "the next run reads it once it has settled. Producers should write a file elsewhere or under a temporary name ('.x' or '_x') and rename it into place when complete");
        }
    }

    /// <summary>Quarantines files whole (their bytes, as read) with their reasons, and records an <c>unreadable_file</c> anomaly for each.</summary>
    async Task QuarantineFilesAsync(StepContext context, IReadOnlyList<SetAside> setAside, Dictionary<string, object?> details, CancellationToken ct)
    {
        var quarantined = new List<string>();
        foreach (var (file, reason) in setAside)
        {
            var staging = System.IO.Path.Combine(context.Lake.StagingRoot, context.RunId, context.Workflow, context.Step.Id, "files", file.Path);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(staging)!);
            File.Copy(context.Lake.Resolve(file.Path), staging, overwrite: true);
            var final = $"quarantine/{context.Step.Id}/{context.RunId}/files/{file.Path}";
            context.Commit.AddStagedFile(new StagedFile(context.Lake.ToRelative(staging), final));
            quarantined.Add(final);
            await context.ReportAnomalyAsync("unreadable_file", AnomalySeverity.Warning, "quarantine", $"{file.Path} quarantined whole to {final}: {reason}",
                new { file = file.Path, reason, quarantine = final, size = file.Size }, ct);
        }
        details["quarantined_files"] = quarantined;
    }
}
