using System.Globalization;
using Millrace.Server.Storage;
using Millrace.Storage;
using Millrace.Storage.Sql;

namespace Millrace.Server.Tests.Storage;

/// <summary>
/// What the server's store must do on every database: schedule state, tokens, the audit log, webhook deliveries, and
/// its own migrations beside the library's, adopting the tables a store made by an earlier version already has. A
/// database's test class says how to make an empty library store; the server store is opened on its database.
/// </summary>
public abstract class ServerStoreContract : IAsyncLifetime
{
    static readonly DateTimeOffset S0 = new(2024, 3, 1, 8, 0, 0, TimeSpan.Zero);
    static readonly CancellationToken None = CancellationToken.None;

    IMetadataStore? _metadata;
    ServerStore? _store;

    /// <summary>The server store under test, on a migrated library store: empty when each test starts.</summary>
    protected ServerStore Store => _store ?? throw new InvalidOperationException("the store is created in InitializeAsync");

    /// <summary>The library store whose database the server store borrows.</summary>
    protected IMetadataStore Metadata => _metadata ?? throw new InvalidOperationException("the store is created in InitializeAsync");

    /// <summary>Creates an empty library store, migrated by the library's migrations only.</summary>
    protected abstract Task<IMetadataStore> CreateMetadataStoreAsync();

    /// <summary>Removes whatever <see cref="CreateMetadataStoreAsync"/> made, after the store is disposed.</summary>
    protected virtual Task DeleteStoreAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        _metadata = await CreateMetadataStoreAsync();
        _store = new ServerStore(_metadata.Database);
    }

    public async Task DisposeAsync()
    {
        if (_metadata is not null) await _metadata.DisposeAsync();
        await DeleteStoreAsync();
    }

    async Task<long> CountAsync(string sql)
    {
        await using var connection = await Metadata.Database.OpenAsync(None);
        await using var command = SqlHelper.Command(connection, null, sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(None), CultureInfo.InvariantCulture);
    }

    static ApiToken NewToken(string id) =>
        new() { Id = id, ProjectId = "shop", Role = TokenRole.Runner, Name = "ci", Salt = "ab", Hash = "cd", CreatedAt = S0, ExpiresAt = S0.AddDays(90) };

    [SkippableFact]
    public async Task The_library_migrations_alone_create_no_server_table_and_the_server_migrations_create_them()
    {
        Assert.False(await Metadata.Database.HasTableAsync("api_tokens", None));
        Assert.False(await Metadata.Database.HasTableAsync(ServerStore.Migrations.VersionTable, None));
        var libraryMigrations = await CountAsync("SELECT COUNT(*) FROM schema_migrations");

        await Store.MigrateAsync(None);
        await Store.MigrateAsync(None);

        foreach (var table in new[] { "api_tokens", "audit_log", "notification_deliveries", "schedule_states" })
            Assert.True(await Metadata.Database.HasTableAsync(table, None), table);
        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM server_schema_migrations"));
        Assert.Equal(libraryMigrations, await CountAsync("SELECT COUNT(*) FROM schema_migrations"));
    }

    [SkippableFact]
    public async Task A_store_made_by_an_earlier_version_is_adopted_with_its_tokens_audit_and_schedules()
    {
        // An earlier version's store: the library's tables, plus the server tables its migration 0005 created, with
        // rows written before the server had a migration stream of its own.
        await LegacyServerTables.CreateAsync(Metadata.Database);
        var token = NewToken("00112233aabbccdd");
        await Store.CreateTokenAsync(token, None);
        await Store.AddAuditAsync(new AuditEntry { At = S0, ProjectId = "shop", Actor = "cli:ann", Action = "token.create", Target = token.Id, Outcome = 0 }, None);
        await Store.SetSchedulePausedAsync("shop", "nightly", true, "token:abc", S0, None);
        Assert.False(await Metadata.Database.HasTableAsync(ServerStore.Migrations.VersionTable, None));

        var adopted = await ServerStore.OpenAsync(Metadata.Database, None);

        Assert.Equal(token, await adopted.GetTokenAsync(token.Id, None));
        Assert.Equal("token.create", Assert.Single(await adopted.FindAuditAsync(new Page(), None)).Action);
        Assert.True(Assert.Single(await adopted.GetScheduleStatesAsync("shop", None)).Paused);
        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM server_schema_migrations"));
        // The adopted tables take new rows as before (the audit log's id still counts on).
        await adopted.CreateTokenAsync(NewToken("ffeeddccbbaa9988"), None);
        await adopted.AddAuditAsync(new AuditEntry { At = S0.AddSeconds(1), ProjectId = "shop", Actor = "cli:ann", Action = "token.revoke", Outcome = 0 }, None);
        Assert.Equal(2, (await adopted.ListTokensAsync(None)).Count);
        Assert.Equal(["token.revoke", "token.create"], (await adopted.FindAuditAsync(new Page(), None)).Select(e => e.Action));
    }

    [SkippableFact]
    public async Task Schedule_state_keeps_pause_and_never_moves_the_checked_time_backwards()
    {
        await Store.MigrateAsync(None);
        await Store.MarkScheduleCheckedAsync("shop", "nightly", S0, null, None);
        await Store.SetSchedulePausedAsync("shop", "nightly", true, "token:abc", S0.AddMinutes(1), None);
        await Store.MarkScheduleCheckedAsync("shop", "nightly", S0.AddMinutes(10), S0.AddMinutes(10), None);
        await Store.MarkScheduleCheckedAsync("shop", "nightly", S0.AddMinutes(5), S0.AddMinutes(5), None);
        await Store.SetSchedulePausedAsync("shop", "hourly", false, "token:abc", S0, None);

        var states = await Store.GetScheduleStatesAsync("shop", None);

        var nightly = states.Single(s => s.Pipeline == "nightly");
        Assert.True(nightly.Paused);
        Assert.Equal(("token:abc", S0.AddMinutes(1)), (nightly.ChangedBy, nightly.ChangedAt));
        Assert.Equal((S0.AddMinutes(10), S0.AddMinutes(10)), (nightly.CheckedAt, nightly.LastFireAt));
        Assert.False(states.Single(s => s.Pipeline == "hourly").Paused);
        Assert.Empty(await Store.GetScheduleStatesAsync("other", None));
    }

    [SkippableFact]
    public async Task Tokens_are_stored_listed_revoked_once_and_touched()
    {
        await Store.MigrateAsync(None);
        var token = NewToken("00112233aabbccdd");
        await Store.CreateTokenAsync(token, None);

        Assert.Equal(token, await Store.GetTokenAsync(token.Id, None));
        Assert.True(await Store.RevokeTokenAsync(token.Id, S0.AddDays(1), None));
        Assert.False(await Store.RevokeTokenAsync(token.Id, S0.AddDays(2), None));
        await Store.TouchTokenAsync(token.Id, S0.AddHours(3), None);
        var listed = Assert.Single(await Store.ListTokensAsync(None));
        Assert.Equal((S0.AddDays(1), S0.AddHours(3)), (listed.RevokedAt, listed.LastUsedAt));
        Assert.Null(await Store.GetTokenAsync("ffffffffffffffff", None));
    }

    [SkippableFact]
    public async Task The_audit_log_lists_newest_first()
    {
        await Store.MigrateAsync(None);
        await Store.AddAuditAsync(new AuditEntry { At = S0, ProjectId = "shop", Actor = "token:a", Action = "POST /executePipeline", Target = "pipeline nightly", Outcome = 202, UserName = "ann", DetailsJson = """{"runId":"r1"}""", RemoteAddress = "127.0.0.1" }, None);
        await Store.AddAuditAsync(new AuditEntry { At = S0.AddSeconds(1), ProjectId = "shop", Actor = "cli:bob", Action = "token.revoke", Outcome = 0 }, None);

        var entries = await Store.FindAuditAsync(new Page(), None);

        Assert.Equal(["token.revoke", "POST /executePipeline"], entries.Select(e => e.Action));
        Assert.Equal(("token:a", "ann", 202, "127.0.0.1"), (entries[1].Actor, entries[1].UserName, entries[1].Outcome, entries[1].RemoteAddress));
        Assert.Single(await Store.FindAuditAsync(new Page(1, 5), None));
    }

    [SkippableFact]
    public async Task Due_notifications_are_the_pending_ones_whose_time_has_come()
    {
        await Store.MigrateAsync(None);
        NotificationDelivery Delivery(string id, DateTimeOffset next) => new()
        {
            Id = id, ProjectId = "shop", RunId = "run-1", Event = "run.failed", Url = "http://127.0.0.1:9/hook", SecretRef = "${env:HOOK}",
            PayloadJson = "{}", Status = DeliveryStatus.Pending, Attempts = 0, NextAttemptAt = next, CreatedAt = next,
        };
        await Store.AddNotificationAsync(Delivery("d1", S0), None);
        await Store.AddNotificationAsync(Delivery("d2", S0.AddMinutes(10)), None);

        Assert.Equal(["d1"], (await Store.GetDueNotificationsAsync(S0.AddMinutes(1), 10, None)).Select(d => d.Id));
        var delivered = Delivery("d1", S0) with { Status = DeliveryStatus.Delivered, Attempts = 2, LastStatusCode = 200, DeliveredAt = S0.AddSeconds(3), NextAttemptAt = null };
        await Store.UpdateNotificationAsync(delivered, None);

        Assert.Equal(["d2"], (await Store.GetDueNotificationsAsync(S0.AddHours(1), 10, None)).Select(d => d.Id));
        Assert.Equal(delivered, (await Store.FindNotificationsAsync("run-1", new Page(), None)).Single(d => d.Id == "d1"));
        Assert.Empty(await Store.FindNotificationsAsync("run-2", new Page(), None));
    }
}
