using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Millrace.Deadlines;
using Millrace.Engine;
using Millrace.Server.Hosting;
using Millrace.Server.Notifications;
using Millrace.Storage;

namespace Millrace.Server.Scheduling;

/// <summary>
/// Evaluates every hosted project's <c>deadline:</c> and <c>freshness:</c> every <see cref="ServerOptions.DeadlinePollInterval"/>
/// on the server's clock, without any run happening (<see cref="DeadlineEvaluator"/>), and sends the webhooks of each
/// miss once: the node that records a miss claims it in the store and records its deliveries at once. A miss no node
/// claimed (its node stopped in between) is claimed by any node after <see cref="ServerOptions.NodeTimeout"/>.
/// </summary>
public sealed class DeadlineWatch(ProjectRegistry projects, WebhookNotifier notifier, ServerOptions options, NodeIdentity self, TimeProvider clock,
    ILogger<DeadlineWatch> logger) : IHostedService, IDisposable
{
    readonly CancellationTokenSource _stopping = new();
    Task? _loop;
    long _passes;

    /// <summary>
    /// Passes made so far. When it has grown, the pass is over and the wait for the next one has begun (on a fake clock,
    /// advancing it by the poll interval starts the next): tests wait for it instead of sleeping.
    /// </summary>
    public long Passes => Interlocked.Read(ref _passes);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(LoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is not null) await _loop;
    }

    public void Dispose() => _stopping.Dispose();

    async Task LoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            foreach (var host in projects.All)
            {
                // One project's store or lake failing leaves the others evaluated; it is tried again next pass.
                try
                {
                    await PassAsync(host, _stopping.Token);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    logger.LogError(e, "project {Project}: deadlines could not be evaluated or sent; trying again in {Interval}", host.Id, options.DeadlinePollInterval);
                }
            }
            var wait = Task.Delay(options.DeadlinePollInterval, clock, _stopping.Token);
            Interlocked.Increment(ref _passes);
            try { await wait; }
            catch (OperationCanceledException) { break; }
        }
    }

    async Task PassAsync(ProjectHost host, CancellationToken ct)
    {
        var definition = host.Definition;
        if (!definition.Pipelines.Values.Any(p => p.Deadline is not null || p.Freshness.Count > 0)) return;
        var lookback = TimeSpan.FromTicks(Math.Max(options.DeadlineLookback.Ticks, 2 * options.DeadlinePollInterval.Ticks));
        var evaluation = await new DeadlineEvaluator(definition, host.Store, host.OpenLake(), clock, self) { Lookback = lookback }.EvaluateAsync(ct);
        foreach (var problem in evaluation.Problems) logger.LogWarning("project {Project}: {Problem}", host.Id, problem);
        foreach (var miss in evaluation.Recorded)
            logger.LogWarning("project {Project}: {Kind} missed: pipeline {Pipeline}, {RunDate}, due {Due}: {Missing}", host.Id, miss.AnomalyKind, miss.Pipeline, miss.RunDate, miss.DueText, miss.Missing);

        // This node's new misses, and any left unclaimed by a node that stopped before sending them.
        var now = evaluation.At;
        var from = DateOnly.FromDateTime((now - lookback).UtcDateTime).AddDays(-2);
        var to = DateOnly.FromDateTime(now.UtcDateTime).AddDays(2);
        var orphaned = (await host.Store.ListDeadlineMissesAsync(host.Id, null, from, to, ct))
            .Where(m => m.NotifiedAt is null && (m.Node == self.Owner || m.RecordedAt <= now - options.NodeTimeout));
        foreach (var miss in evaluation.Recorded.Concat(orphaned).DistinctBy(m => (m.Pipeline, m.Kind, m.RunDate, m.Feed)))
            if (await host.Store.TryClaimDeadlineNotificationAsync(miss, clock.GetUtcNow(), ct))
                await notifier.DeadlineMissedAsync(host, miss, ct);
    }
}
