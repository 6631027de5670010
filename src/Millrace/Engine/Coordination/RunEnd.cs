using Microsoft.Extensions.Logging;
using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>
/// A run's end as the run-end handlers see it: the result, how the run was requested (its attempt), the policy of its
/// target and the options it was submitted with. <see cref="Retry"/> is set when a handler asked for a retry.
/// </summary>
public sealed class RunEnd(RunResult result, RunRequestInfo request, RunPolicy policy, SubmitOptions options)
{
    public RunResult Result { get; } = result;
    public RunRequestInfo Request { get; } = request;
    public RunPolicy Policy { get; } = policy;
    public SubmitOptions Options { get; } = options;

    /// <summary>The retry the retry handler submitted (queued on the server; run to its end in process), or null.</summary>
    public RunResult? Retry { get; set; }

    /// <summary>True when the run is retried: its end is not final, so nobody is notified of it.</summary>
    public bool Retrying => Retry is not null;
}

/// <summary>One thing that follows a run's end (retry, retrain, notify); see <see cref="RunEndChain"/>.</summary>
public interface IRunEndHandler
{
    /// <summary>Acts on <paramref name="end"/>; new runs go through <paramref name="coordinator"/>.</summary>
    Task HandleAsync(RunCoordinator coordinator, RunEnd end, CancellationToken ct);
}

/// <summary>
/// The handlers called once per run end, in order. A run another node took over ends nowhere here: the takeover's
/// resumption finishes it. A handler that fails is logged and the next one still runs.
/// </summary>
public sealed class RunEndChain(IReadOnlyList<IRunEndHandler> handlers)
{
    /// <summary>Retry, retrain, then clear stale marks: what the CLI's in-process coordinator runs (the server adds its notifications).</summary>
    public static RunEndChain Default { get; } = new([new RetryHandler(), new RetrainHandler(), new StaleClearHandler()]);

    public IReadOnlyList<IRunEndHandler> Handlers { get; } = handlers;

    /// <summary>A chain of these handlers followed by <paramref name="more"/>.</summary>
    public RunEndChain Then(params IRunEndHandler[] more) => new([.. Handlers, .. more]);

    public async Task HandleAsync(RunCoordinator coordinator, RunEnd end, ILogger logger, CancellationToken ct)
    {
        if (end.Result.Earlier || end.Result.Failure == FailureKind.TakenOver) return;
        foreach (var handler in Handlers)
        {
            try
            {
                await handler.HandleAsync(coordinator, end, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                logger.LogError(e, "after run {RunId}: {Handler} failed", end.Result.Run.Id, handler.GetType().Name);
            }
        }
    }
}

/// <summary>Retries a failed pipeline run per its <c>retries:</c> (attempts, backoff): a retry that resumes it.</summary>
public sealed class RetryHandler : IRunEndHandler
{
    public async Task HandleAsync(RunCoordinator coordinator, RunEnd end, CancellationToken ct)
    {
        var result = end.Result;
        if (!end.Policy.ShouldRetry(result, end.Request.Attempt)) return;
        var request = await coordinator.Runner.RetryRequestAsync(result.Run.Id, ct);
        var info = new RunRequestInfo(end.Request.Attempt + 1, coordinator.Clock.GetUtcNow() + end.Policy.Retries.Backoff, "retry policy", end.Request.UserName);
        // The note goes to the failed run's log once its retry is recorded, before the retry runs (in process).
        var options = end.Options with
        {
            ApplyOverlapPolicy = false,
            Recorded = retry => coordinator.Store.AppendLogAsync(result.Run.Id, coordinator.Clock.GetUtcNow(), "info", null, null,
                end.Policy.RetryNote(retry.Id, info.Attempt), CancellationToken.None),
        };
        end.Retry = await coordinator.SubmitAsync(request, info, options, ct);
    }
}

/// <summary>
/// Decides whether the run asks for a training (<c>retrain_when</c>, <see cref="Runner.DecideRetrainAsync"/>), records
/// the decision and submits the training run it asks for, then records that run's id with the decision.
/// </summary>
public sealed class RetrainHandler : IRunEndHandler
{
    public async Task HandleAsync(RunCoordinator coordinator, RunEnd end, CancellationToken ct)
    {
        var run = end.Result.Run;
        if (await coordinator.Runner.DecideRetrainAsync(run, ct) is not { Request: { } retrain }) return;
        // In process the training runs before SubmitAsync returns: its id is recorded as soon as it is recorded.
        var options = end.Options with { Recorded = training => coordinator.Store.SetRetrainRunAsync(run.Id, training.Id, CancellationToken.None) };
        var result = await coordinator.SubmitAsync(retrain, new RunRequestInfo(RequestedBy: $"retrain_when in run {run.Id}"), options, ct);
        await coordinator.Store.SetRetrainRunAsync(run.Id, result.Run.Id, ct);
    }
}

/// <summary>
/// Clears the stale marks of a pipeline's run date when a run of it succeeds (or is up to date): its outputs replace
/// what the marked runs published. Marks made after the run started stay (the run may not have seen what caused them);
/// a failed run leaves them all.
/// </summary>
public sealed class StaleClearHandler : IRunEndHandler
{
    public async Task HandleAsync(RunCoordinator coordinator, RunEnd end, CancellationToken ct)
    {
        var run = end.Result.Run;
        if (!run.Status.IsSuccess() || run.TargetKind != "pipeline" || run.StartedAt is not { } started) return;
        var cleared = await coordinator.Store.ClearStaleAsync(run.ProjectId, run.Target, run.RunDate, run.Id, started, ct);
        if (cleared > 0)
            await coordinator.Store.AppendLogAsync(run.Id, coordinator.Clock.GetUtcNow(), "info", null, null,
                $"cleared {cleared} stale mark(s) of '{run.Target}' for {run.RunDate:yyyy-MM-dd}: this run's outputs replace them", ct);
    }
}
