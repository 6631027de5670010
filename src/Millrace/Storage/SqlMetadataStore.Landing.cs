using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Millrace.Definitions.Options;
using static Millrace.Storage.Sql.SqlHelper;

namespace Millrace.Storage;

/// <summary>Landing-trigger dates (see <see cref="ILandingStore"/>).</summary>
public abstract partial class SqlMetadataStore
{
    const string LandingColumns = "project_id, pipeline, date, state, missing_json, fileset_hash, files_json, changed_at, unsettled_since, run_id, run_hash, updated_at, note, revision";

    static readonly string OpenStates = string.Join(", ",
        new[] { LandingState.Waiting, LandingState.Settling, LandingState.Ready, LandingState.Late, LandingState.NeverSettling }.Select(s => $"'{StateText(s)}'"));

    static string StateText(LandingState state) => OptionsShape.ChoiceName(state);

    static LandingState ParseState(string text) => Enum.GetValues<LandingState>().First(s => StateText(s) == text);

    static string DateText(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public async Task<IReadOnlyList<LandingDate>> ListLandingDatesAsync(string projectId, string pipeline, DateOnly from, DateOnly to, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await QueryLandingDatesAsync(connection, "AND date >= @from AND date <= @to", ct, ("p", projectId), ("n", pipeline), ("from", DateText(from)), ("to", DateText(to)));
    }

    public async Task<IReadOnlyList<LandingDate>> ListOpenLandingDatesAsync(string projectId, string pipeline, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await QueryLandingDatesAsync(connection, $"AND state IN ({OpenStates})", ct, ("p", projectId), ("n", pipeline));
    }

    public async Task<DateOnly?> GetNewestLandingDateAsync(string projectId, string pipeline, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, "SELECT MAX(date) FROM landing_dates WHERE project_id = @p AND pipeline = @n", ("p", projectId), ("n", pipeline));
        return await command.ExecuteScalarAsync(ct) is string text ? DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture) : null;
    }

    public async Task<bool> SaveLandingDateAsync(LandingDate date, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        (string, object?)[] values =
        [
            ("p", date.ProjectId), ("n", date.Pipeline), ("d", DateText(date.Date)), ("state", StateText(date.State)),
            ("missing", JsonSerializer.Serialize(date.Missing, Json)), ("hash", date.FilesetHash), ("files", JsonSerializer.Serialize(date.Files, Json)),
            ("changed", Time(date.ChangedAt)), ("unsettled", Time(date.UnsettledSince)), ("run", date.RunId), ("runHash", date.RunHash),
            ("updated", Time(date.UpdatedAt)), ("note", date.Note), ("expected", date.Revision), ("next", date.Revision + 1),
        ];
        var sql = date.Revision == 0
            ? $"""
              INSERT INTO landing_dates ({LandingColumns})
              VALUES (@p, @n, @d, @state, @missing, @hash, @files, @changed, @unsettled, @run, @runHash, @updated, @note, @next)
              ON CONFLICT (project_id, pipeline, date) DO NOTHING
              """
            : """
              UPDATE landing_dates SET state = @state, missing_json = @missing, fileset_hash = @hash, files_json = @files, changed_at = @changed,
                unsettled_since = @unsettled, run_id = @run, run_hash = @runHash, updated_at = @updated, note = @note, revision = @next
              WHERE project_id = @p AND pipeline = @n AND date = @d AND revision = @expected
              """;
        await using var command = Command(connection, transaction, sql, values);
        var written = await command.ExecuteNonQueryAsync(ct) == 1;
        await transaction.CommitAsync(ct);
        return written;
    }

    async Task<IReadOnlyList<LandingDate>> QueryLandingDatesAsync(DbConnection connection, string where, CancellationToken ct, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, null, $"SELECT {LandingColumns} FROM landing_dates WHERE project_id = @p AND pipeline = @n {where} ORDER BY date", parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<LandingDate>();
        while (await reader.ReadAsync(ct))
            result.Add(new LandingDate
            {
                ProjectId = reader.GetString(0),
                Pipeline = reader.GetString(1),
                Date = DateOnly.ParseExact(reader.GetString(2), "yyyy-MM-dd", CultureInfo.InvariantCulture),
                State = ParseState(reader.GetString(3)),
                Missing = JsonSerializer.Deserialize<List<string>>(reader.GetString(4), Json) ?? [],
                FilesetHash = NullableString(reader, 5),
                Files = JsonSerializer.Deserialize<List<string>>(reader.GetString(6), Json) ?? [],
                ChangedAt = NullableTime(reader, 7),
                UnsettledSince = NullableTime(reader, 8),
                RunId = NullableString(reader, 9),
                RunHash = NullableString(reader, 10),
                UpdatedAt = ParseTime(reader.GetString(11)),
                Note = NullableString(reader, 12),
                Revision = Convert.ToInt64(reader.GetValue(13), CultureInfo.InvariantCulture),
            });
        return result;
    }
}
