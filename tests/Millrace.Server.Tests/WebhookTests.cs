using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Millrace.Server.Notifications;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;

namespace Millrace.Server.Tests;

/// <summary>
/// notify: webhooks are POSTed signed with HMAC-SHA256, retried with backoff, and every delivery is recorded. The
/// server's clock is a fake one: a retry goes out when the test advances it by the backoff.
/// </summary>
public sealed class WebhookTests : IAsyncLifetime
{
    const string Secret = "s3cret-for-tests";
    readonly ProjectFolder _project = new("churn");
    readonly ConcurrentQueue<(string Event, string Body, string Timestamp, string Signature, string Delivery)> _received = new();
    readonly string _variable = "MILLRACE_TEST_HOOK_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
    static readonly TimeSpan Backoff = TimeSpan.FromMinutes(1);
    readonly FakeTimeProvider _clock = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
    int _calls;
    WebhookReceiver _receiver = null!;
    TestServer _server = null!;
    HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        // A receiver on loopback that refuses the first call (500) and accepts the next ones.
        _receiver = await WebhookReceiver.StartAsync((request, body) =>
        {
            if (Interlocked.Increment(ref _calls) == 1) return Results.StatusCode(500);
            _received.Enqueue((request.Headers[WebhookSignature.EventHeader].ToString(), body, request.Headers[WebhookSignature.TimestampHeader].ToString(),
                request.Headers[WebhookSignature.SignatureHeader].ToString(), request.Headers[WebhookSignature.DeliveryHeader].ToString()));
            return Results.Ok();
        });
        var url = _receiver.Url;
        Environment.SetEnvironmentVariable(_variable, Secret);

        _project.File("millrace.yaml", $$"""
                id: churn
                notify:
                  - url: {{url}}
                    on: [run.failed]
                    secret: ${env:{{_variable}}}
                """)
            .Workflow("ok", "name: ok\nsteps:\n  - id: one\n    type: sql\n    sql: SELECT 1 AS n\n")
            .Workflow("broken", "name: broken\nsteps:\n  - id: bad\n    type: sql\n    sql: SELECT * FROM no_such_table\n")
            .Pipeline("good", $"name: good\nworkflows: [ok]\nnotify:\n  - url: {url}\n    on: [run.succeeded]\n    secret: ${{env:{_variable}}}\n")
            .Pipeline("bad", "name: bad\nworkflows: [broken]\n")
            .Workflow("unusual", "name: unusual\nsteps:\n  - id: few\n    type: anomaly\n    message: only three orders today\n")
            .Pipeline("odd", $"name: odd\nworkflows: [unusual]\nnotify:\n  - url: {url}\n    on: [anomaly]\n    secret: ${{env:{_variable}}}\n");
        _server = await TestServer.StartAsync(_project, o => o with { Clock = _clock, WebhookBackoff = Backoff });
        _client = _server.Client(await _server.TokenAsync("churn", TokenRole.Admin));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
        await _receiver.DisposeAsync();
        Environment.SetEnvironmentVariable(_variable, null);
        _project.Dispose();
    }

    /// <summary>
    /// Waits for the first attempt of every delivery of <paramref name="runId"/> (the receiver refuses the first call),
    /// checks that each waits the backoff, advances the clock by it, and waits until all are delivered.
    /// </summary>
    async Task<IReadOnlyList<System.Text.Json.JsonElement>> DeliverAsync(string runId)
    {
        var url = $"/api/v1/projects/churn/notifications?runId={runId}";
        async Task<List<System.Text.Json.JsonElement>> DeliveriesAsync() => (await _client.GetJsonAsync(url)).EnumerateArray().ToList();
        await TestServer.EventuallyAsync(async () => await DeliveriesAsync() is { Count: > 0 } all && all.All(d => d.GetProperty("attempts").GetInt32() > 0 || d.GetProperty("status").GetString() == "delivered"),
            TimeSpan.FromSeconds(10), "the first attempts are made");
        foreach (var pending in (await DeliveriesAsync()).Where(d => d.GetProperty("status").GetString() == "pending"))
            Assert.Equal(pending.GetProperty("lastAttemptAt").GetDateTimeOffset() + Backoff, pending.GetProperty("nextAttemptAt").GetDateTimeOffset());
        _clock.Advance(Backoff);
        await TestServer.EventuallyAsync(async () => (await DeliveriesAsync()).All(d => d.GetProperty("status").GetString() == "delivered"), TimeSpan.FromSeconds(10),
            "the run's webhooks are delivered");
        return await DeliveriesAsync();
    }

    [Fact]
    public async Task A_failed_run_is_delivered_with_a_valid_signature_after_a_retry_and_the_delivery_is_recorded()
    {
        var accepted = await _client.ExecuteAsync("churn", "bad");
        var runId = accepted.GetProperty("runId").GetString()!;

        await DeliverAsync(runId);

        var (eventName, body, timestamp, signature, deliveryId) = Assert.Single(_received);
        Assert.Equal("run.failed", eventName);
        Assert.StartsWith("sha256=", signature);
        Assert.True(WebhookSignature.Verify(Secret, long.Parse(timestamp, CultureInfo.InvariantCulture), body, signature), "the HMAC-SHA256 signature verifies");
        Assert.False(WebhookSignature.Verify("another secret", long.Parse(timestamp, CultureInfo.InvariantCulture), body, signature));
        var payload = System.Text.Json.JsonDocument.Parse(body).RootElement;
        Assert.Equal(runId, payload.GetProperty("run").GetProperty("id").GetString());
        Assert.Equal("failed", payload.GetProperty("run").GetProperty("status").GetString());
        Assert.Contains("no_such_table", payload.GetProperty("run").GetProperty("error").GetString());
        Assert.Equal(deliveryId, payload.GetProperty("deliveryId").GetString());

        var deliveries = await _client.GetJsonAsync($"/api/v1/projects/churn/notifications?runId={runId}");
        var delivery = Assert.Single(deliveries.EnumerateArray());
        Assert.Equal("delivered", delivery.GetProperty("status").GetString());
        Assert.Equal(2, delivery.GetProperty("attempts").GetInt32());
        Assert.Equal(200, delivery.GetProperty("lastStatusCode").GetInt32());
        Assert.False((await File.ReadAllTextAsync(Path.Combine(_project.Directory, ".millrace", "millrace.db"))).Contains(Secret, StringComparison.Ordinal), "the secret is not stored");
    }

    [Fact]
    public async Task Pipeline_webhooks_add_to_the_project_ones_and_only_subscribed_events_are_sent()
    {
        var accepted = await _client.ExecuteAsync("churn", "good");
        Assert.Equal("succeeded", (await TestServer.WaitForRunAsync(_client, accepted.GetProperty("statusUrl").GetString()!)).Status());

        // Every delivery of a run's end is recorded at once, when the run ends: once all of them went out, nothing else
        // can arrive for this run.
        var deliveries = await DeliverAsync(accepted.GetProperty("runId").GetString()!);

        Assert.Equal(["run.succeeded"], deliveries.Select(d => d.GetProperty("event").GetString()));
        Assert.Equal(["run.succeeded"], _received.Select(r => r.Event));
    }

    [Fact]
    public async Task A_run_that_records_anomalies_sends_them_to_anomaly_subscribers()
    {
        var accepted = await _client.ExecuteAsync("churn", "odd");
        Assert.Equal("succeeded", (await TestServer.WaitForRunAsync(_client, accepted.GetProperty("statusUrl").GetString()!)).Status());

        await DeliverAsync(accepted.GetProperty("runId").GetString()!);

        var (eventName, body, _, _, _) = Assert.Single(_received);
        Assert.Equal("anomaly", eventName);
        var anomaly = Assert.Single(System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("anomalies").EnumerateArray());
        Assert.Equal(("volume", "only three orders today"), (anomaly.GetProperty("kind").GetString(), anomaly.GetProperty("message").GetString()));
    }
}
