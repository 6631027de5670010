using Millrace.Storage;

namespace Millrace.Tests.Storage;

/// <summary>The server's part of the store contract: run queue, schedule state, tokens, audit log, webhook deliveries.</summary>
public abstract partial class MetadataStoreContract
{
    static readonly DateTimeOffset S0 = new(2024, 3, 1, 8, 0, 0, TimeSpan.Zero);

    [SkippableFact]
    public async Task Enqueued_runs_are_listed_oldest_first_with_their_request_and_a_repeated_run_key_returns_the_first()
    {
        await Store.EnqueueRunAsync(NewRun("run-b", createdAt: S0.AddSeconds(2), status: RunStatus.Queued) with { StartedAt = null }, new RunRequestInfo(2, S0.AddMinutes(5), "retry policy", "ann"), None);
        await Store.EnqueueRunAsync(NewRun("run-a", createdAt: S0, status: RunStatus.Queued, runKey: "k1") with { StartedAt = null }, new RunRequestInfo(RequestedBy: "token:abc"), None);

        var again = await Store.EnqueueRunAsync(NewRun("run-c", createdAt: S0.AddSeconds(3), status: RunStatus.Queued, runKey: "k1"), new RunRequestInfo(), None);

        Assert.Equal("run-a", again.Id);
        Assert.Null(await Store.GetRunAsync("run-c", None));
        var queued = await Store.GetQueuedRunsAsync(None);
        Assert.Equal(["run-a", "run-b"], queued.Select(q => q.Run.Id));
        Assert.Equal(new RunRequestInfo(2, S0.AddMinutes(5), "retry policy", "ann"), queued[1].Request);
        Assert.Equal(new RunRequestInfo(1, null, "token:abc", null), await Store.GetRunRequestAsync("run-a", None));
        Assert.Null(await Store.GetRunRequestAsync("nope", None));
    }

    [SkippableFact]
    public async Task A_queued_run_is_claimed_once_and_a_cancelled_one_cannot_be_claimed()
    {
        await Store.EnqueueRunAsync(NewRun("run-1", status: RunStatus.Queued) with { StartedAt = null }, new RunRequestInfo(), None);
        await Store.EnqueueRunAsync(NewRun("run-2", status: RunStatus.Queued) with { StartedAt = null }, new RunRequestInfo(), None);

        Assert.True(await Store.ClaimQueuedRunAsync("run-1", "host|1|2", S0, None));
        Assert.False(await Store.ClaimQueuedRunAsync("run-1", "host|1|2", S0, None));
        Assert.True(await Store.CancelQueuedRunAsync("run-2", "cancelled by test", None));
        Assert.False(await Store.CancelQueuedRunAsync("run-2", "again", None));
        Assert.False(await Store.ClaimQueuedRunAsync("run-2", "host|1|2", S0, None));

        var claimed = (await Store.GetRunAsync("run-1", None))!;
        Assert.Equal((RunStatus.Running, S0), (claimed.Status, claimed.StartedAt));
        var cancelled = (await Store.GetRunAsync("run-2", None))!;
        Assert.Equal((RunStatus.Cancelled, "cancelled by test"), (cancelled.Status, cancelled.Error));
        Assert.Empty(await Store.GetQueuedRunsAsync(None));
        Assert.Contains(await Store.GetRunningRunsAsync(None), r => r.Run.Id == "run-1" && r.Owner == "host|1|2");
    }

    [SkippableFact]
    public async Task Schedule_state_keeps_pause_and_never_moves_the_checked_time_backwards()
    {
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
        var token = new ApiToken { Id = "00112233aabbccdd", ProjectId = "shop", Role = TokenRole.Runner, Name = "ci", Salt = "ab", Hash = "cd", CreatedAt = S0, ExpiresAt = S0.AddDays(90) };
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
