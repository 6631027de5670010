using System.Globalization;
using System.Text.Json;
using Millrace.Definitions;
using Millrace.Learning;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>A run's retrain decision as recorded, and the training request it makes (null when it asked for none).</summary>
public sealed record RetrainOutcome(RetrainRecord Record, RunRequest? Request);

/// <summary>The retrain decision of a run's end (<c>retrain_when</c>, <see cref="RetrainPolicy"/>).</summary>
public sealed partial class Runner
{
    /// <summary>
    /// Decides and records whether the ended <paramref name="run"/> asks for a training (its pipeline's
    /// <c>retrain_when</c>): null when the pipeline has none. Signals: the worst PSI of what the run's workflows
    /// measured (with the rows of that measurement), the champion of the model the training pipeline registers with its
    /// holdout value and newest realized value of the watched metric; history: the last decision that asked for the
    /// same training pipeline. Decision and reason are written to the store (<see cref="IRetrainStore"/>) and the
    /// run's log; a run that did not succeed, or was itself triggered by drift, records why it asks for nothing.
    /// </summary>
    public async Task<RetrainOutcome?> DecideRetrainAsync(Run run, CancellationToken ct)
    {
        if (run.TargetKind != "pipeline" || !project.Pipelines.TryGetValue(run.Target, out var pipeline) || pipeline.RetrainWhen is not { } retrain) return null;
        var now = Clock.GetUtcNow();
        var record = new RetrainRecord
        {
            RunId = run.Id, ProjectId = run.ProjectId, Pipeline = run.Target, RetrainPipeline = retrain.Pipeline, Asked = false, Reason = "", DecidedAt = now,
        };
        string? fixedReason = run.Status == RunStatus.UpToDate ? "the run was up to date (same inputs as an earlier run): nothing new was measured"
            : run.Status != RunStatus.Succeeded ? $"the run ended {run.Status.ToString().ToLowerInvariant()}: no training asked for"
            : run.Trigger == TriggerKind.Drift ? "a triggered training run asks for no further training" : null;
        RetrainThresholds? thresholds = null;
        RetrainSignals? signals = null;
        if (fixedReason is null)
        {
            signals = await RetrainSignalsAsync(run, retrain, ct);
            var higher = retrain.Metric is not { } m || ModelBuilder.HigherIsBetter(m.Name);
            thresholds = new RetrainThresholds(retrain.Drift, retrain.Metric?.Worse, retrain.Metric?.Drop, higher, retrain.Cooldown, retrain.MinRows);
            record = record with
            {
                Psi = signals.Psi, WorstFeature = signals.WorstFeature, DriftRows = signals.DriftRows, Metric = signals.Metric, ChampionVersion = signals.ChampionVersion,
            };
        }
        var decided = await store.DecideRetrainAsync(run.ProjectId, retrain.Pipeline, run.Id, last =>
        {
            if (fixedReason is not null) return record with { Reason = fixedReason };
            var history = last is null ? null
                : new RetrainHistory(last.DecidedAt, last.TriggeredRunId ?? last.RunId, last.AskedBy == "drift" ? last.Psi : null, last.WorstFeature, last.ChampionVersion);
            var decision = RetrainPolicy.Decide(thresholds!, signals!, history, now);
            return record with { Asked = decision.Asked, Reason = decision.Reason, AskedBy = decision.Trigger };
        }, ct);
        if (decided.DecidedAt != now) return new RetrainOutcome(decided, null); // decided before (a second end of the same run): nothing asked again
        await store.AppendLogAsync(run.Id, now, decided.Asked ? "warn" : "info", null, null,
            decided.Asked ? $"retrain: requesting a run of '{retrain.Pipeline}': {decided.Reason}" : $"retrain: no run of '{retrain.Pipeline}' requested: {decided.Reason}", ct);
        return new RetrainOutcome(decided, decided.Asked
            ? new RunRequest(retrain.Pipeline, [new(BuiltInParameters.RunDate, run.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))], TriggerKind.Drift, ParentRunId: run.Id)
            : null);
    }

    /// <summary>What the run measured (worst PSI, its feature and rows) and the watched model's champion (version, holdout and newest realized metric).</summary>
    async Task<RetrainSignals> RetrainSignalsAsync(Run run, RetrainDefinition retrain, CancellationToken ct)
    {
        var drift = await DriftOfCommittedWorkflowsAsync(run, ct);
        var worst = drift.MaxBy(d => d.Psi);
        long rows = 0;
        if (worst is not null && (await store.GetStepRunsAsync(worst.RunId, ct)).FirstOrDefault(s => s.Workflow == worst.Workflow && s.StepId == worst.StepId) is { } step)
            rows = MeasuredRows(step);
        int? champion = null;
        double? holdout = null, realized = null;
        if (RetrainModels.Of(project, retrain.Pipeline) is [var model]
            && await store.GetModelVersionAsync(model.Name, null, ModelRegistry.Champion, ct) is { } version)
        {
            champion = version.Version;
            if (retrain.Metric is { } metric)
            {
                holdout = version.Metrics.TryGetValue(metric.Name, out var h) ? h : null;
                var points = await store.ListPerformanceAsync(project.Id, model.Name, version.Version, null, null, ct);
                realized = points.LastOrDefault(p => p.Variant == PredictionVariant.Champion && p.Metrics.ContainsKey(metric.Name))?.Metrics[metric.Name];
            }
        }
        return new RetrainSignals(worst?.Psi, worst?.Feature, rows, realized, holdout, champion);
    }

    /// <summary>The rows a drift measurement was made on: a drift step's <c>rows</c> detail, a predict step's scored rows.</summary>
    static long MeasuredRows(StepRun step)
    {
        if (step.Kind == "drift")
        {
            if (step.DetailsJson is null) return 0;
            using var details = JsonDocument.Parse(step.DetailsJson);
            return details.RootElement.TryGetProperty("rows", out var rows) && rows.TryGetInt64(out var n) ? n : 0;
        }
        return step.Rows ?? 0;
    }
}
