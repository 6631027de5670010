using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Millrace.Engine;
using Millrace.Server.Notifications;
using Millrace.Server.Scheduling;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Tests.TestSupport;

namespace Millrace.Server.Tests;

/// <summary>
/// The server evaluates deadline: and freshness: on its own clock without any run happening: when 07:00 in Berlin
/// passes with no run and no file, the misses are recorded within one poll interval and one signed deadline.missed and
/// one freshness.missed webhook reach a receiver on loopback; two nodes on one PostgreSQL store send them once. The
/// clock is a fake one; every absence is asserted after a completed evaluation pass (a witness), never after a sleep.
/// </summary>
public sealed class DeadlineAlertTests : IAsyncLifetime
{
    const string Secret = "deadline-secret-for-tests";
    static readonly TimeSpan Poll = TimeSpan.FromSeconds(30);
    // 07:00 in Berlin on 15 January 2030 (CET).
    static readonly DateTimeOffset Due = new(2030, 1, 15, 6, 0, 0, TimeSpan.Zero);
    readonly FakeTimeProvider _clock = new(Due - TimeSpan.FromSeconds(10));
    readonly ConcurrentQueue<(string Event, string Body, string Timestamp, string Signature)> _received = new();
    readonly string _variable = "MILLRACE_TEST_DEADLINE_HOOK_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
    readonly List<TestServer> _servers = [];
    WebhookReceiver _receiver = null!;
    string _url = "";
    ProjectFolder? _project;
    PostgresTestDatabase? _database;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync((request, body) =>
        {
            _received.Enqueue((request.Headers[WebhookSignature.EventHeader].ToString(), body,
                request.Headers[WebhookSignature.TimestampHeader].ToString(), request.Headers[WebhookSignature.SignatureHeader].ToString()));
            return Results.Ok();
        });
        _url = _receiver.Url;
        Environment.SetEnvironmentVariable(_variable, Secret);
    }

    public async Task DisposeAsync()
    {
        foreach (var server in _servers) await server.DisposeAsync();
        await _receiver.DisposeAsync();
        Environment.SetEnvironmentVariable(_variable, null);
        _project?.Dispose();
        if (_database is not null) await _database.DisposeAsync();
    }

    ProjectFolder Project(string projectYaml) => _project = new ProjectFolder("shop", projectYaml)
        .Workflow("one", "name: one\nsteps:\n  - id: a\n    type: sql\n    sql: SELECT 1 AS n\n")
        .Pipeline("daily", $$"""
            name: daily
            workflows: [one]
            deadline: { by: "07:00", timezone: Europe/Berlin }
            freshness: { feed: "raw/events/dt={date}/*.csv", by: "07:00", timezone: Europe/Berlin }
            notify:
              - url: {{_url}}
                on: [deadline.missed, freshness.missed]
                secret: ${env:{{_variable}}}
            """);

    async Task<TestServer> StartAsync(string node, int maxRuns = 2)
    {
        var server = await TestServer.StartAsync(_project!, o => o with
        {
            Clock = _clock, Node = NodeIdentity.Named(node), EnableScheduler = false, MaxConcurrentRuns = maxRuns,
            DeadlinePollInterval = Poll, DeadlineLookback = TimeSpan.FromHours(1),
        });
        _servers.Add(server);
        return server;
    }

    static DeadlineWatch Watch(TestServer server) => (DeadlineWatch)server.App.Services.GetService(typeof(DeadlineWatch))!;

    /// <summary>Waits until each server's watch has completed more passes than <paramref name="after"/> says (its next wait has begun).</summary>
    static Task PassedAsync(IReadOnlyList<TestServer> servers, IReadOnlyList<long> after) =>
        TestServer.EventuallyAsync(() => Task.FromResult(servers.Select((s, i) => Watch(s).Passes > after[i]).All(p => p)), TimeSpan.FromSeconds(20), "every node completes an evaluation pass");

    async Task<IReadOnlyList<JsonElement>> DeliveredAsync(HttpClient client, int count)
    {
        async Task<List<JsonElement>> DeliveriesAsync() => (await client.GetJsonAsync("/api/v1/projects/shop/notifications")).EnumerateArray().ToList();
        await TestServer.EventuallyAsync(async () => await DeliveriesAsync() is var all && all.Count >= count && all.All(d => d.GetProperty("status").GetString() == "delivered"),
            TimeSpan.FromSeconds(20), $"{count} deliveries are delivered");
        return await DeliveriesAsync();
    }

    [Fact]
    public async Task A_deadline_and_a_feed_that_pass_unmet_are_recorded_within_one_poll_and_each_sends_one_signed_webhook()
    {
        Project("id: shop\n");
        var server = await StartAsync("node-a");
        var client = server.Client(await server.TokenAsync("shop", TokenRole.Admin));
        await PassedAsync([server], [0]);
        Assert.Empty(await server.Host("shop").Store.ListDeadlineMissesAsync("shop", null, DateOnly.MinValue, DateOnly.MaxValue, CancellationToken.None));

        var before = Watch(server).Passes;
        _clock.Advance(Poll);
        var deliveries = await DeliveredAsync(client, 2);
        await PassedAsync([server], [before]);
        _clock.Advance(Poll);
        await PassedAsync([server], [before + 1]);

        var misses = await server.Host("shop").Store.ListDeadlineMissesAsync("shop", "daily", new DateOnly(2030, 1, 15), new DateOnly(2030, 1, 15), CancellationToken.None);
        Assert.Equal(["Deadline", "Freshness"], misses.Select(m => m.Kind.ToString()));
        Assert.All(misses, m => Assert.True(m.RecordedAt > Due && m.RecordedAt <= Due + Poll, $"recorded at {m.RecordedAt}, within one poll interval of {Due}"));
        Assert.Equal(2, (await DeliveredAsync(client, 2)).Count);
        Assert.Equal(["deadline.missed", "freshness.missed"], _received.Select(r => r.Event).Order(StringComparer.Ordinal));
        var (_, body, timestamp, signature) = _received.Single(r => r.Event == "deadline.missed");
        Assert.True(WebhookSignature.Verify(Secret, long.Parse(timestamp, CultureInfo.InvariantCulture), body, signature));
        var miss = JsonDocument.Parse(body).RootElement.GetProperty("miss");
        Assert.Equal(("daily", "deadline", "2030-01-15", "07:00 Europe/Berlin", "no run for 2030-01-15"),
            (miss.GetProperty("pipeline").GetString(), miss.GetProperty("kind").GetString(), miss.GetProperty("runDate").GetString(), miss.GetProperty("due").GetString(), miss.GetProperty("missing").GetString()));
        Assert.Equal(Due, miss.GetProperty("dueAt").GetDateTimeOffset());
        var feed = JsonDocument.Parse(_received.Single(r => r.Event == "freshness.missed").Body).RootElement.GetProperty("miss");
        Assert.Equal("raw/events/dt={date}/*.csv", feed.GetProperty("feed").GetString());
        var anomalies = (await client.GetJsonAsync("/api/v1/projects/shop/anomalies")).EnumerateArray().Select(a => a.GetProperty("kind").GetString()).Order(StringComparer.Ordinal);
        Assert.Equal(["deadline_missed", "freshness_missed"], anomalies);
        Assert.Equal(2, deliveries.Count);
        var view = (await client.GetJsonAsync("/api/v1/projects/shop/pipelines")).EnumerateArray().Single(p => p.GetProperty("name").GetString() == "daily");
        Assert.Equal(("07:00", "Europe/Berlin", "today"), (view.GetProperty("deadline").GetProperty("by").GetString(), view.GetProperty("deadline").GetProperty("timezone").GetString(),
            view.GetProperty("deadline").GetProperty("date").GetString()));
        Assert.Equal("raw/events/dt={date}/*.csv", Assert.Single(view.GetProperty("freshness").EnumerateArray()).GetProperty("feed").GetString());
        var onlyDeadlines = (await client.GetJsonAsync("/api/v1/projects/shop/anomalies?kind=deadline_missed")).EnumerateArray().ToList();
        Assert.Equal(JsonValueKind.Null, Assert.Single(onlyDeadlines).GetProperty("runId").ValueKind);

        // The UI: the pipeline page shows the date missed, the anomalies page filters by kind.
        using var ui = new Ui.UiClient(server.BaseAddress);
        Assert.Equal(303, (int)(await ui.SignInAsync(await server.TokenAsync("shop", TokenRole.Viewer))).StatusCode);
        var (_, pipelinePage) = await ui.GetAsync(Millrace.Server.Ui.UiUrls.Pipeline("shop", "daily"));
        Assert.Contains("<h2>Deadlines", pipelinePage);
        Assert.Matches("data-kind=\"deadline\" data-date=\"2030-01-15\">.*\\n.*badge missed.*no run for 2030-01-15", pipelinePage);
        Assert.Matches("data-kind=\"freshness\" data-date=\"2030-01-15\">.*\\n.*badge missed.*no file matches raw/events/dt=2030-01-15/\\*\\.csv", pipelinePage);
        var (_, anomalyPage) = await ui.GetAsync(Millrace.Server.Ui.UiUrls.Anomalies("shop") + "?kind=freshness_missed");
        Assert.Contains("freshness_missed", anomalyPage);
        Assert.DoesNotContain("<td>deadline_missed</td>", anomalyPage);
    }

    [Fact]
    [Trait("Category", "Security")]
    public async Task A_hostile_anomaly_kind_filter_is_a_value_never_sql_or_markup()
    {
        Project("id: shop\n");
        var server = await StartAsync("node-a");
        var client = server.Client(await server.TokenAsync("shop", TokenRole.Viewer));
        await PassedAsync([server], [0]);
        var before = Watch(server).Passes;
        _clock.Advance(Poll);
        await PassedAsync([server], [before]);
        const string Hostile = "x' OR '1'='1";

        var listed = await client.GetJsonAsync("/api/v1/projects/shop/anomalies?kind=" + Uri.EscapeDataString(Hostile));

        Assert.Empty(listed.EnumerateArray());
        Assert.Equal(2, (await client.GetJsonAsync("/api/v1/projects/shop/anomalies")).GetArrayLength());
        using var ui = new Ui.UiClient(server.BaseAddress);
        await ui.SignInAsync(await server.TokenAsync("shop", TokenRole.Viewer));
        var (_, page) = await ui.GetAsync(Millrace.Server.Ui.UiUrls.Anomalies("shop") + "?kind=" + Uri.EscapeDataString("\"><script>alert(1)</script>"));
        Assert.DoesNotContain("<script>alert(1)</script>", page);
    }

    [SkippableFact]
    public async Task Two_nodes_on_one_postgres_store_record_and_send_each_miss_once()
    {
        Skip.If(PostgresTestDatabase.Server is null, "MILLRACE_TEST_POSTGRES is not set: ./test.sh starts PostgreSQL on loopback and sets it");
        _database = await PostgresTestDatabase.CreateAsync("millrace_deadline_alerts");
        Project($"id: shop\nstore: '{_database.ConnectionString}'\n");
        var one = await StartAsync("node-a");
        var two = await StartAsync("node-b", maxRuns: 0);
        var client = one.Client(await one.TokenAsync("shop", TokenRole.Admin));
        await PassedAsync([one, two], [0, 0]);

        var before = new[] { Watch(one).Passes, Watch(two).Passes };
        _clock.Advance(Poll);
        await PassedAsync([one, two], before);
        await DeliveredAsync(client, 2);
        before = [Watch(one).Passes, Watch(two).Passes];
        _clock.Advance(Poll);
        await PassedAsync([one, two], before);

        var misses = await one.Host("shop").Store.ListDeadlineMissesAsync("shop", "daily", new DateOnly(2030, 1, 15), new DateOnly(2030, 1, 15), CancellationToken.None);
        Assert.Equal(2, misses.Count);
        Assert.All(misses, m => Assert.NotNull(m.NotifiedAt));
        Assert.Equal(2, (await DeliveredAsync(client, 2)).Count);
        Assert.Equal(["deadline.missed", "freshness.missed"], _received.Select(r => r.Event).Order(StringComparer.Ordinal));
    }
}
