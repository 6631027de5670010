using System.Data.Common;
using System.Globalization;
using Millrace.Storage.Sql;
using static Millrace.Storage.Sql.SqlHelper;

namespace Millrace.Server.Storage;

/// <summary>
/// The SQL implementation of <see cref="IServerStore"/> on the project store's <see cref="SqlDatabase"/>, which it
/// borrows (the metadata store owns and closes it). Its tables come from its own migration stream,
/// <c>Storage/Migrations/{dialect}/</c> of this assembly, recorded in <c>server_schema_migrations</c>.
/// </summary>
public sealed partial class ServerStore(SqlDatabase database) : IServerStore
{
    /// <summary>The server's migrations, apart from the library's.</summary>
    public static readonly MigrationStream Migrations = new(typeof(ServerStore).Assembly, "Millrace.Server.Storage.Migrations", "server_schema_migrations");

    /// <summary>The server's store on <paramref name="database"/>, migrated.</summary>
    public static async Task<ServerStore> OpenAsync(SqlDatabase database, CancellationToken ct)
    {
        var store = new ServerStore(database);
        await store.MigrateAsync(ct);
        return store;
    }

    public Task MigrateAsync(CancellationToken ct) => database.MigrateAsync(Migrations, ct);

    public SharedDatabase? SharedDatabase => database.Shared;

    Task<DbConnection> OpenAsync(CancellationToken ct) => database.OpenAsync(ct);

    // ---- schedules ----

    public async Task<IReadOnlyList<ScheduleState>> GetScheduleStatesAsync(string projectId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null,
            "SELECT pipeline, paused, changed_by, changed_at, last_fire_at, checked_at FROM schedule_states WHERE project_id = @p ORDER BY pipeline", ("p", projectId));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<ScheduleState>();
        while (await reader.ReadAsync(ct))
            result.Add(new ScheduleState
            {
                ProjectId = projectId,
                Pipeline = reader.GetString(0),
                Paused = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture) != 0,
                ChangedBy = NullableString(reader, 2),
                ChangedAt = NullableTime(reader, 3),
                LastFireAt = NullableTime(reader, 4),
                CheckedAt = NullableTime(reader, 5),
            });
        return result;
    }

    public async Task SetSchedulePausedAsync(string projectId, string pipeline, bool paused, string changedBy, DateTimeOffset at, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, """
            INSERT INTO schedule_states (project_id, pipeline, paused, changed_by, changed_at) VALUES (@p, @n, @paused, @by, @at)
            ON CONFLICT (project_id, pipeline) DO UPDATE SET paused = excluded.paused, changed_by = excluded.changed_by, changed_at = excluded.changed_at
            """, ct, ("p", projectId), ("n", pipeline), ("paused", paused ? 1 : 0), ("by", changedBy), ("at", Time(at)));
    }

    public async Task MarkScheduleCheckedAsync(string projectId, string pipeline, DateTimeOffset checkedAt, DateTimeOffset? firedAt, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        // Never move backwards: a late fire must not re-open fire times already handled.
        await ExecuteAsync(connection, null, """
            INSERT INTO schedule_states (project_id, pipeline, paused, checked_at, last_fire_at) VALUES (@p, @n, 0, @checked, @fired)
            ON CONFLICT (project_id, pipeline) DO UPDATE SET
                checked_at = CASE WHEN schedule_states.checked_at IS NULL OR schedule_states.checked_at < excluded.checked_at THEN excluded.checked_at ELSE schedule_states.checked_at END,
                last_fire_at = CASE WHEN excluded.last_fire_at IS NOT NULL AND (schedule_states.last_fire_at IS NULL OR schedule_states.last_fire_at < excluded.last_fire_at) THEN excluded.last_fire_at ELSE schedule_states.last_fire_at END
            """, ct, ("p", projectId), ("n", pipeline), ("checked", Time(checkedAt)), ("fired", Time(firedAt)));
    }

    // ---- tokens ----

    const string TokenColumns = "id, project_id, role, name, salt, hash, created_at, expires_at, revoked_at, last_used_at";

    public async Task CreateTokenAsync(ApiToken token, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, $"""
            INSERT INTO api_tokens ({TokenColumns}) VALUES (@id, @project, @role, @name, @salt, @hash, @created, @expires, @revoked, @used)
            """, ct, ("id", token.Id), ("project", token.ProjectId), ("role", token.Role.ToString()), ("name", token.Name), ("salt", token.Salt),
            ("hash", token.Hash), ("created", Time(token.CreatedAt)), ("expires", Time(token.ExpiresAt)), ("revoked", Time(token.RevokedAt)), ("used", Time(token.LastUsedAt)));
    }

    public async Task<ApiToken?> GetTokenAsync(string tokenId, CancellationToken ct) =>
        (await QueryTokensAsync("WHERE id = @id", ct, ("id", tokenId))).SingleOrDefault();

    public Task<IReadOnlyList<ApiToken>> ListTokensAsync(CancellationToken ct) => QueryTokensAsync("ORDER BY created_at, id", ct);

    async Task<IReadOnlyList<ApiToken>> QueryTokensAsync(string where, CancellationToken ct, params (string, object?)[] parameters)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, $"SELECT {TokenColumns} FROM api_tokens {where}", parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<ApiToken>();
        while (await reader.ReadAsync(ct))
            result.Add(new ApiToken
            {
                Id = reader.GetString(0), ProjectId = reader.GetString(1), Role = Enum.Parse<TokenRole>(reader.GetString(2)), Name = NullableString(reader, 3),
                Salt = reader.GetString(4), Hash = reader.GetString(5), CreatedAt = ParseTime(reader.GetString(6)), ExpiresAt = NullableTime(reader, 7),
                RevokedAt = NullableTime(reader, 8), LastUsedAt = NullableTime(reader, 9),
            });
        return result;
    }

    public async Task<bool> RevokeTokenAsync(string tokenId, DateTimeOffset at, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, "UPDATE api_tokens SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL", ("at", Time(at)), ("id", tokenId));
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    public async Task TouchTokenAsync(string tokenId, DateTimeOffset at, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, "UPDATE api_tokens SET last_used_at = @at WHERE id = @id", ct, ("at", Time(at)), ("id", tokenId));
    }
}
