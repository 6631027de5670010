using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Millrace.Server.Notifications;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;

namespace Millrace.Server.Tests;

/// <summary>
/// The registry's webhooks: a training run's registration and its gate's promotion, a promotion and a rollback over the
/// API, and a performance drop, each sent once, signed, to the hooks that subscribe to them, and to no other.
/// </summary>
public sealed class RegistryWebhookTests : IAsyncLifetime
{
    const string Secret = "registry-hook-secret";
    readonly ProjectFolder _project = new("scores");
    readonly ConcurrentQueue<(string Event, JsonElement Body)> _received = new();
    readonly ConcurrentQueue<string> _unsubscribed = new();
    readonly string _variable = "MILLRACE_TEST_HOOK_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
    WebhookReceiver _receiver = null!;
    WebhookReceiver _runHooks = null!;
    TestServer _server = null!;
    HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync((request, body) =>
        {
            var timestamp = long.Parse(request.Headers[WebhookSignature.TimestampHeader].ToString(), System.Globalization.CultureInfo.InvariantCulture);
            if (request.Headers[WebhookSignature.SignatureHeader].ToString() != WebhookSignature.Sign(Secret, timestamp, body)) return Results.StatusCode(401);
            _received.Enqueue((request.Headers[WebhookSignature.EventHeader].ToString(), JsonDocument.Parse(body).RootElement.Clone()));
            return Results.Ok();
        });
        // A hook on run failures only: registry events must not reach it.
        _runHooks = await WebhookReceiver.StartAsync((request, _) => { _unsubscribed.Enqueue(request.Headers[WebhookSignature.EventHeader].ToString()); return Results.Ok(); });
        Environment.SetEnvironmentVariable(_variable, Secret);
        var rows = string.Join("\n", Enumerable.Range(0, 400).Select(i => $"{i},{(i % 100) / 100.0:0.00}"));
        _project.File("millrace.yaml", $$"""
                id: scores
                notify:
                  - url: {{_receiver.Url}}
                    on: [model.registered, model.promoted, model.rolled_back, model.performance_dropped]
                    secret: ${env:{{_variable}}}
                  - url: {{_runHooks.Url}}
                    on: [run.failed]
                    secret: ${env:{{_variable}}}
                """)
            .LakeFile("raw/train.csv", "id,x\n" + rows + "\n")
            .Workflow("train", """
                name: train
                parameters: { flip: { type: bool, default: false } }
                steps:
                  - { id: data, type: read, path: raw/train.csv }
                  - { id: labelled, type: sql, inputs: [data], sql: "SELECT x, (x > 0.5) <> $flip AS y FROM data" }
                  - { id: model, type: train, input: labelled, model: scorer, task: binary, label: y, algorithm: logistic, promote: { metric: auc, min_improvement: 0.5 } }
                """)
            .Workflow("watch", "name: watch\nsteps:\n  - { id: realized, type: anomaly, kind: performance_dropped, message: \"realized auc 0.61 against 0.80 on the holdout\" }\n")
            .Pipeline("training", "name: training\nworkflows: [train]\n")
            .Pipeline("monitor", "name: monitor\nworkflows: [watch]\n");
        _server = await TestServer.StartAsync(_project);
        _admin = _server.Client(await _server.TokenAsync("scores", TokenRole.Admin));
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
        await _receiver.DisposeAsync();
        await _runHooks.DisposeAsync();
        Environment.SetEnvironmentVariable(_variable, null);
        _project.Dispose();
    }

    async Task<List<(string Event, JsonElement Body)>> ReceivedAsync(int count)
    {
        await TestServer.EventuallyAsync(() => Task.FromResult(_received.Count >= count), TimeSpan.FromSeconds(15), $"{count} registry webhooks");
        return [.. _received];
    }

    [Fact]
    public async Task Registration_promotion_rollback_and_a_performance_drop_each_send_their_event_once()
    {
        var first = await _admin.ExecuteAsync("scores", "training");
        Assert.Equal("succeeded", (await TestServer.WaitForRunAsync(_admin, first.GetProperty("statusUrl").GetString()!)).Status());
        var runId = first.GetProperty("runId").GetString();
        var received = await ReceivedAsync(2);
        var registered = Assert.Single(received, r => r.Event == "model.registered").Body;
        Assert.Equal(("scorer", 1, runId), (registered.GetProperty("model").GetProperty("name").GetString(), registered.GetProperty("model").GetProperty("version").GetInt32(),
            registered.GetProperty("model").GetProperty("runId").GetString()));
        Assert.True(registered.GetProperty("model").GetProperty("metrics").GetProperty("auc").GetDouble() > 0.9);
        var promoted = Assert.Single(received, r => r.Event == "model.promoted").Body.GetProperty("model");
        Assert.Equal(("champion", 1, runId), (promoted.GetProperty("alias").GetString(), promoted.GetProperty("version").GetInt32(), promoted.GetProperty("runId").GetString()));

        // The flipped model's run registers v2, which beats v1 on the (flipped) holdout by more than 0.5: champion.
        var second = await _admin.ExecuteAsync("scores", "training", "--var flip=true");
        Assert.Equal("succeeded", (await TestServer.WaitForRunAsync(_admin, second.GetProperty("statusUrl").GetString()!)).Status());
        received = await ReceivedAsync(4);
        Assert.Equal(2, received.Count(r => r.Event == "model.registered"));
        var gate = received.Where(r => r.Event == "model.promoted").Select(r => r.Body.GetProperty("model")).Single(m => m.GetProperty("runId").GetString() == second.GetProperty("runId").GetString());
        Assert.Equal(("champion", 2, 1), (gate.GetProperty("alias").GetString(), gate.GetProperty("version").GetInt32(), gate.GetProperty("previousVersion").GetInt32()));

        var (answer, _) = await _admin.PostAsync("/api/v1/projects/scores/models/scorer/promote", """{"version": 1, "reason": "by hand"}""");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        received = await ReceivedAsync(5);
        var byHand = received.Where(r => r.Event == "model.promoted").Select(r => r.Body.GetProperty("model")).Last();
        Assert.Equal((1, 2, "by hand"), (byHand.GetProperty("version").GetInt32(), byHand.GetProperty("previousVersion").GetInt32(), byHand.GetProperty("reason").GetString()));
        Assert.StartsWith("api:", byHand.GetProperty("actor").GetString(), StringComparison.Ordinal);

        (answer, _) = await _admin.PostAsync("/api/v1/projects/scores/models/scorer/rollback", "");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        received = await ReceivedAsync(6);
        var rolledBack = Assert.Single(received, r => r.Event == "model.rolled_back").Body.GetProperty("model");
        Assert.Equal((2, 1), (rolledBack.GetProperty("version").GetInt32(), rolledBack.GetProperty("previousVersion").GetInt32()));

        var monitor = await _admin.ExecuteAsync("scores", "monitor");
        Assert.Equal("succeeded", (await TestServer.WaitForRunAsync(_admin, monitor.GetProperty("statusUrl").GetString()!)).Status());
        received = await ReceivedAsync(7);
        var dropped = Assert.Single(received, r => r.Event == "model.performance_dropped").Body.GetProperty("model");
        Assert.Equal("realized auc 0.61 against 0.80 on the holdout", dropped.GetProperty("message").GetString());

        // Every delivery recorded is one of these seven: none twice, none for the run-failure hook.
        var deliveries = (await _admin.GetJsonAsync("/api/v1/projects/scores/notifications")).EnumerateArray().ToList();
        Assert.Equal(7, deliveries.Count);
        Assert.Equal(7, _received.Count);
        Assert.Empty(_unsubscribed);
    }
}
