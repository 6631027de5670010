using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Millrace.Definitions;
using Millrace.Lake;
using Millrace.Storage;

namespace Millrace.Triggers;

/// <summary>
/// The files one poll found for one date: per feed (in the trigger's order) the matching files, the feeds with none,
/// and the fileset: each file's path with its ETag (S3) or size and time (a local lake), hashed.
/// </summary>
public sealed record LandingObservation(IReadOnlyList<string> Missing, IReadOnlyList<string> Files, string Hash)
{
    /// <summary>The observation of <paramref name="files"/>, one list per feed of <paramref name="trigger"/>.</summary>
    public static LandingObservation Of(TriggerDefinition trigger, IReadOnlyList<IReadOnlyList<LakeFile>> files)
    {
        var missing = trigger.Feeds.Where((_, i) => files[i].Count == 0).Select(f => f.Pattern).ToList();
        var lines = files.SelectMany(f => f).Select(Line).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', lines))))[..16];
        return new LandingObservation(missing, lines, hash);
    }

    static string Line(LakeFile file) => file.Path + "\t" + (file.ETag is { } etag ? "etag:" + etag
        : string.Create(CultureInfo.InvariantCulture, $"{file.Size}@{file.Modified.UtcTicks}"));
}

/// <summary>What a poll does about a date once its state is decided.</summary>
public enum LandingAction { None, StartFirst, HandleLate }

/// <summary>A date's new state and what to do about it.</summary>
public sealed record LandingVerdict(LandingDate Date, LandingAction Action);

/// <summary>
/// Decides one date from what was recorded and what the poll saw, by the clock: a date with a feed missing waits; once
/// every feed has files, the fileset must stay the same for <c>settle</c> (counted from the poll that first saw it)
/// before the date is run; files still changing <see cref="TriggerDefinition.NeverSettlingFactor"/> settle periods
/// after they were all there are reported as never settling, and not run on while they change. After the date's run,
/// a different fileset is late: it settles the same way, then <c>on_late</c> applies.
/// </summary>
public static class LandingDecision
{
    /// <summary>The verdict for <paramref name="before"/> (the record, or a new one) given <paramref name="seen"/> at <paramref name="now"/>.</summary>
    public static LandingVerdict Decide(TriggerDefinition trigger, LandingDate before, LandingObservation seen, DateTimeOffset now)
    {
        var date = before;
        var changed = date.FilesetHash != seen.Hash;
        if (changed)
            date = date with { FilesetHash = seen.Hash, Files = seen.Files, Missing = seen.Missing, ChangedAt = now, Note = ChangeNote(before, seen) };
        var started = date.RunHash is not null;
        if (started && seen.Hash == date.RunHash)
        {
            // Back to the files the run was for (a late file removed again): nothing is late.
            var settledState = before.State is LandingState.LateRecorded ? LandingState.LateRecorded : LandingState.Started;
            return new LandingVerdict(changed || before.State != settledState ? date with { State = settledState, UnsettledSince = null } : before, LandingAction.None);
        }
        if (seen.Missing.Count > 0)
        {
            var note = started ? $"files changed after run {date.RunId}, and a feed has no file now: {string.Join(", ", seen.Missing)}" : $"waiting for {string.Join(", ", seen.Missing)}";
            var waiting = date with { State = started ? LandingState.Late : LandingState.Waiting, UnsettledSince = null, Note = note };
            return new LandingVerdict(changed || before.State != waiting.State || before.Note != note ? waiting : before, LandingAction.None);
        }
        var unsettledSince = date.UnsettledSince ?? now;
        if (date.ChangedAt is { } changedAt && now - changedAt >= trigger.Settle)
            return new LandingVerdict(date with { UnsettledSince = unsettledSince }, started ? LandingAction.HandleLate : LandingAction.StartFirst);
        var neverSettling = trigger.Settle > TimeSpan.Zero && now - unsettledSince >= trigger.Settle * TriggerDefinition.NeverSettlingFactor;
        var state = neverSettling ? LandingState.NeverSettling : started ? LandingState.Late : LandingState.Settling;
        var verdict = date with
        {
            State = state,
            UnsettledSince = unsettledSince,
            Note = !neverSettling ? date.Note
                : changed || before.State != LandingState.NeverSettling
                    ? $"never settling: files still change {Durations.Format(now - unsettledSince)} after they were all there ({date.Note ?? "changed"}); not run while they change"
                    : before.Note,
        };
        return new LandingVerdict(changed || before.State != state || before.UnsettledSince != unsettledSince || before.Note != verdict.Note ? verdict : before, LandingAction.None);
    }

    /// <summary>What changed since the recorded fileset: the files added, changed or removed (at most five named).</summary>
    static string? ChangeNote(LandingDate before, LandingObservation seen)
    {
        if (before.FilesetHash is null) return null;
        var old = before.Files.ToDictionary(l => l.Split('\t')[0], StringComparer.Ordinal);
        var now = seen.Files.ToDictionary(l => l.Split('\t')[0], StringComparer.Ordinal);
        var changes = now.Keys.Where(p => !old.ContainsKey(p)).Select(p => $"{p} added")
            .Concat(now.Keys.Where(p => old.TryGetValue(p, out var line) && line != now[p]).Select(p => $"{p} changed"))
            .Concat(old.Keys.Where(p => !now.ContainsKey(p)).Select(p => $"{p} removed"))
            .ToList();
        return changes.Count == 0 ? null
            : string.Join(", ", changes.Take(5)) + (changes.Count > 5 ? string.Create(CultureInfo.InvariantCulture, $" and {changes.Count - 5} more") : "");
    }
}
