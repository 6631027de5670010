using System.Globalization;
using System.Text.Json;
using Millrace.Definitions;
using Millrace.Learning;
using Millrace.Server.Hosting;
using Millrace.Storage;

namespace Millrace.Server.Notifications;

/// <summary>
/// The registry's webhooks: <c>model.registered</c>, <c>model.promoted</c>, <c>model.rolled_back</c> and
/// <c>model.performance_dropped</c>. A run's are read back from the store when the run ends (the versions it
/// registered, the alias changes its gate made, its <c>performance_dropped</c> anomalies), so they go out once, by
/// the node that ends the run, on both run paths and after a takeover; an alias changed over the API sends its event
/// from the request that changed it.
/// </summary>
public sealed partial class WebhookNotifier
{
    async Task RegistryEventsOfRunAsync(ProjectHost host, IReadOnlyList<NotifyDefinition> hooks, Run run, IReadOnlyList<Anomaly> anomalies, CancellationToken ct)
    {
        if (!hooks.Any(h => NotifyEvents.Registry.Any(h.Wants))) return;
        foreach (var name in await host.Store.ListModelsAsync(ct))
        {
            foreach (var version in (await host.Store.ListModelVersionsAsync(name, ct)).Where(v => v.RunId == run.Id))
                await EnqueueAsync(host, hooks, NotifyEvents.ModelRegistered, run.Id, id => Payload(host, NotifyEvents.ModelRegistered, id, new
                {
                    name, version = version.Version, task = version.Task.ToString().ToLowerInvariant(), algorithm = version.Algorithm,
                    metrics = version.Metrics, trainRows = version.TrainRows, holdoutRows = version.HoldoutRows, createdAt = version.CreatedAt,
                    runId = run.Id, url = ModelUrl(host, name),
                }), ct);
            foreach (var change in (await host.Store.GetAliasHistoryAsync(name, ct)).Where(c => c.RunId == run.Id).Reverse())
                await AliasChangedAsync(host, hooks, change, ct);
        }
        foreach (var drop in anomalies.Where(a => a.Kind == "performance_dropped"))
            await EnqueueAsync(host, hooks, NotifyEvents.ModelPerformanceDropped, run.Id, id => Payload(host, NotifyEvents.ModelPerformanceDropped, id, new
            {
                anomalyId = drop.Id, message = drop.Message, details = Details(drop.DetailsJson), runId = run.Id,
                runDate = run.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), url = $"/api/v1/projects/{host.Definition.Id}/anomalies?kind=performance_dropped",
            }), ct);
    }

    /// <summary>
    /// Records the deliveries of the alias changes an API request made (<paramref name="model"/>'s newest alias history
    /// entry pointing <paramref name="alias"/> at <paramref name="version"/> by <paramref name="actor"/>): <c>model.promoted</c>, or
    /// <c>model.rolled_back</c> for a rollback. Called by the request, once.
    /// </summary>
    public async Task AliasChangedAsync(ProjectHost host, string model, string alias, int? version, string actor, CancellationToken ct)
    {
        var hooks = host.Definition.Notify;
        if (!hooks.Any(h => NotifyEvents.Registry.Any(h.Wants))) return;
        var change = (await host.Store.GetAliasHistoryAsync(model, ct)).FirstOrDefault(c => c.Alias == alias && c.Version == version && c.Actor == actor);
        if (change is not null) await AliasChangedAsync(host, hooks, change, ct);
    }

    Task AliasChangedAsync(ProjectHost host, IReadOnlyList<NotifyDefinition> hooks, AliasHistoryEntry change, CancellationToken ct)
    {
        var eventName = change.Reason.StartsWith(ModelRegistry.RollbackReason, StringComparison.Ordinal) ? NotifyEvents.ModelRolledBack : NotifyEvents.ModelPromoted;
        return EnqueueAsync(host, hooks, eventName, change.RunId, id => Payload(host, eventName, id, new
        {
            name = change.Model, alias = change.Alias, version = change.Version, previousVersion = change.PreviousVersion,
            at = change.At, actor = change.Actor, reason = change.Reason, runId = change.RunId, url = ModelUrl(host, change.Model),
        }), ct);
    }

    string Payload(ProjectHost host, string eventName, string deliveryId, object model) => JsonSerializer.Serialize(new
    {
        @event = eventName,
        deliveryId,
        at = clock.GetUtcNow(),
        project = new { id = host.Definition.Id, name = host.Definition.Name },
        model,
    }, Json);

    static string ModelUrl(ProjectHost host, string name) => $"/api/v1/projects/{host.Definition.Id}/models/{Uri.EscapeDataString(name)}";

    static JsonElement? Details(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
