using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Millrace.Definitions;
using Millrace.Parameters;
using Millrace.Server.Hosting;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Notifications;

/// <summary>
/// Webhooks (<c>notify:</c>): when a run ends or a deadline is missed, one delivery per subscribed webhook and event is recorded in the store
/// (an outbox), and a loop POSTs them, signed (<see cref="WebhookSignature"/>), retrying failures with exponential
/// backoff. Every attempt's outcome is kept with the delivery; deliveries still pending at shutdown go out after the
/// next start.
/// </summary>
public sealed partial class WebhookNotifier(ProjectRegistry projects, ServerOptions options, TimeProvider clock, ILogger<WebhookNotifier> logger) : IDisposable
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    readonly HttpClient _http = new() { Timeout = options.WebhookTimeout };
    readonly SemaphoreSlim _wake = new(0);
    readonly CancellationTokenSource _stopping = new();
    Task? _loop;

    public void Start() => _loop = Task.Run(LoopAsync, CancellationToken.None);

    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        if (_loop is not null) await _loop;
    }

    /// <summary>
    /// Records the deliveries for a finished run: run.succeeded or run.failed, and anomaly when the run recorded
    /// anomalies. Cancelled and skipped runs send nothing.
    /// </summary>
    public async Task RunFinishedAsync(ProjectHost host, Run run, int attempt, CancellationToken ct)
    {
        var definition = host.Definition;
        var hooks = definition.Notify.Concat(definition.Pipelines.TryGetValue(run.Target, out var pipeline) && run.TargetKind == "pipeline" ? pipeline.Notify : []).ToList();
        if (hooks.Count == 0) return;
        var events = new List<string>();
        if (run.Status == RunStatus.Succeeded) events.Add(NotifyEvents.RunSucceeded);
        if (run.Status == RunStatus.Failed) events.Add(NotifyEvents.RunFailed);
        var anomalies = await host.Store.FindAnomaliesAsync(run.Id, new Page(0, 100), ct);
        if (anomalies.Count > 0) events.Add(NotifyEvents.Anomaly);
        await RegistryEventsOfRunAsync(host, hooks, run, anomalies, ct);
        foreach (var eventName in events)
            await EnqueueAsync(host, hooks, eventName, run.Id, id => JsonSerializer.Serialize(new
            {
                @event = eventName,
                deliveryId = id,
                at = clock.GetUtcNow(),
                project = new { id = definition.Id, name = definition.Name },
                run = new
                {
                    id = run.Id, target = run.Target, targetKind = run.TargetKind, trigger = run.Trigger.ToString().ToLowerInvariant(),
                    status = run.Status.ToString().ToLowerInvariant(), runDate = run.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    startedAt = run.StartedAt, endedAt = run.EndedAt, error = run.Error, attempt, parentRunId = run.ParentRunId,
                    url = $"/api/v1/projects/{definition.Id}/runs/{run.Id}",
                },
                anomalies = eventName == NotifyEvents.Anomaly
                    ? anomalies.Select(a => new { a.Id, a.Kind, severity = a.Severity.ToString().ToLowerInvariant(), a.Policy, a.Message, a.Workflow, a.StepId }).ToArray()
                    : null,
            }, Json), ct);
    }

    /// <summary>
    /// Records the deliveries of a deadline or freshness miss (<c>deadline.missed</c>, <c>freshness.missed</c>) to the
    /// project's and the pipeline's webhooks that subscribe to it. Called once per miss, by the node that claimed it.
    /// </summary>
    public async Task DeadlineMissedAsync(ProjectHost host, DeadlineMiss miss, CancellationToken ct)
    {
        var definition = host.Definition;
        var hooks = definition.Notify.Concat(definition.Pipelines.TryGetValue(miss.Pipeline, out var pipeline) ? pipeline.Notify : []).ToList();
        var eventName = miss.Kind == DeadlineKind.Deadline ? NotifyEvents.DeadlineMissed : NotifyEvents.FreshnessMissed;
        await EnqueueAsync(host, hooks, eventName, null, id => JsonSerializer.Serialize(new
        {
            @event = eventName,
            deliveryId = id,
            at = clock.GetUtcNow(),
            project = new { id = definition.Id, name = definition.Name },
            miss = new
            {
                pipeline = miss.Pipeline, kind = miss.Kind.ToString().ToLowerInvariant(), runDate = miss.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                dueAt = miss.DueAt, due = miss.DueText, feed = miss.Kind == DeadlineKind.Freshness ? miss.Feed : null, missing = miss.Missing,
                recordedAt = miss.RecordedAt, node = miss.Node, metAt = miss.MetAt, anomalyId = miss.AnomalyId,
                url = $"/api/v1/projects/{definition.Id}/anomalies",
            },
        }, Json), ct);
    }

    /// <summary>Records one pending delivery of <paramref name="eventName"/> per subscribed webhook (one per URL and secret) and wakes the loop.</summary>
    async Task EnqueueAsync(ProjectHost host, IReadOnlyList<NotifyDefinition> hooks, string eventName, string? runId, Func<string, string> payloadOf, CancellationToken ct)
    {
        var added = 0;
        foreach (var hook in hooks.Where(h => h.Wants(eventName)).DistinctBy(h => (h.Url, h.Secret)))
        {
            var id = "dlv-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            await host.ServerStore.AddNotificationAsync(new NotificationDelivery
            {
                Id = id, ProjectId = host.Definition.Id, RunId = runId, Event = eventName, Url = hook.Url, SecretRef = hook.Secret, PayloadJson = payloadOf(id),
                Status = DeliveryStatus.Pending, Attempts = 0, NextAttemptAt = clock.GetUtcNow(), CreatedAt = clock.GetUtcNow(),
            }, ct);
            added++;
        }
        if (added > 0 && _wake.CurrentCount == 0) _wake.Release();
    }

    async Task LoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                foreach (var host in projects.All)
                    foreach (var delivery in await host.ServerStore.GetDueNotificationsAsync(clock.GetUtcNow(), 50, _stopping.Token))
                        await SendAsync(host, delivery);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogError(e, "webhook deliveries: could not read or update the store; trying again");
            }
            // Until a run's end adds deliveries, or the poll interval passes on the server's clock (a retry comes due).
            using var poll = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            var interval = TimeSpan.FromMilliseconds(Math.Clamp(options.WebhookBackoff.TotalMilliseconds / 4, 50, 1000));
            await Task.WhenAny(_wake.WaitAsync(poll.Token), Task.Delay(interval, clock, poll.Token));
            await poll.CancelAsync();
        }
    }

    async Task SendAsync(ProjectHost host, NotificationDelivery delivery)
    {
        var now = clock.GetUtcNow();
        int? statusCode = null;
        string? error = null;
        try
        {
            var secret = Template.Expand(delivery.SecretRef, new Dictionary<string, ParameterValue>());
            var timestamp = now.ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url) { Content = new StringContent(delivery.PayloadJson, Encoding.UTF8, "application/json") };
            request.Headers.Add(WebhookSignature.EventHeader, delivery.Event);
            request.Headers.Add(WebhookSignature.DeliveryHeader, delivery.Id);
            request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(secret, timestamp, delivery.PayloadJson));
            request.Headers.UserAgent.ParseAdd("Millrace-Webhook/1");
            using var response = await _http.SendAsync(request, _stopping.Token);
            statusCode = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode) error = $"the receiver answered {statusCode} {response.ReasonPhrase}";
        }
        catch (ParameterException e)
        {
            error = $"the webhook secret cannot be read: {e.Message}";
        }
        catch (HttpRequestException e)
        {
            error = $"could not reach {delivery.Url}: {e.Message}";
        }
        catch (TaskCanceledException) when (!_stopping.IsCancellationRequested)
        {
            error = $"no answer from {delivery.Url} within {options.WebhookTimeout.TotalSeconds:0.#}s";
        }

        var attempts = delivery.Attempts + 1;
        NotificationDelivery updated;
        if (error is null)
            updated = delivery with { Status = DeliveryStatus.Delivered, Attempts = attempts, LastAttemptAt = now, LastStatusCode = statusCode, LastError = null, DeliveredAt = clock.GetUtcNow(), NextAttemptAt = null };
        else if (attempts >= options.WebhookAttempts)
            updated = delivery with { Status = DeliveryStatus.Failed, Attempts = attempts, LastAttemptAt = now, LastStatusCode = statusCode, LastError = error, NextAttemptAt = null };
        else
        {
            var delay = TimeSpan.FromMilliseconds(Math.Min(options.WebhookBackoff.TotalMilliseconds * Math.Pow(2, attempts - 1), TimeSpan.FromMinutes(10).TotalMilliseconds));
            updated = delivery with { Attempts = attempts, LastAttemptAt = now, LastStatusCode = statusCode, LastError = error, NextAttemptAt = now + delay };
        }
        if (error is not null)
            logger.LogWarning("webhook {Event} of run {RunId} to {Url}: attempt {Attempt} failed: {Error}", delivery.Event, delivery.RunId, delivery.Url, attempts, error);
        await host.ServerStore.UpdateNotificationAsync(updated, CancellationToken.None);
    }

    public void Dispose()
    {
        _http.Dispose();
        _stopping.Dispose();
        _wake.Dispose();
    }
}
