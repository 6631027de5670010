using Microsoft.ML;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Learning;
using Millrace.Storage;

namespace Millrace.Steps;

/// <summary>The promotion gate of the <c>train</c> step: the champion re-scored on the new version's holdout.</summary>
public sealed partial class TrainStep
{
    async Task<(bool Promoted, string Reason, double? ChampionMetric, IReadOnlyDictionary<string, double>? ChampionMetrics)> GateAsync(StepContext context, MLContext ml,
        ModelRegistry registry, ModelVersion? champion, string relation, IReadOnlyDictionary<string, double> metrics, CancellationToken ct)
    {
        if (champion is null) return (true, $"first version of '{Model}': no {PromoteAlias} yet", null, null);
        if (champion.Task != Task) return (true, $"{PromoteAlias} v{champion.Version} is a {champion.Task} model; the task changed", null, null);
        var schema = DuckDb.Describe(context.Connection, relation);
        try
        {
            FeaturePlan.CheckInput(champion.Features, schema, $"{Model}@v{champion.Version}");
        }
        catch (StepFailedException e)
        {
            return (true, $"{PromoteAlias} v{champion.Version} cannot score this data ({e.Message}); the new version replaces it", null, null);
        }
        var championModel = await registry.LoadAsync(ml, champion, ct);
        var columns = ModelBuilder.ViewColumns(champion.Features, Task, Label, hasLabel: true);
        Dictionary<string, double> championMetrics;
        if (Validation == "kfold")
        {
            // The same folds the new version's metrics are averaged over.
            championMetrics = new Dictionary<string, double>(StringComparer.Ordinal);
            for (var fold = 0; fold < Folds; fold++)
            {
                var foldView = new DuckDbDataView(context.Connection, relation, columns, $"__fold = {fold}");
                foreach (var (name, metric) in (await Task_(() => ModelBuilder.Evaluate(ml, championModel, foldView, Task), ct)).Metrics)
                    championMetrics[name] = championMetrics.GetValueOrDefault(name) + metric / Folds;
            }
        }
        else
            championMetrics = (await Task_(() => ModelBuilder.Evaluate(ml, championModel, new DuckDbDataView(context.Connection, relation, columns, "__fold = 0"), Task), ct)).Metrics;
        var (promoted, reason) = PromotionGate.Decide(PromoteMetric, MinImprovement, Guard, metrics, championMetrics, $"{PromoteAlias} v{champion.Version}");
        return (promoted, reason, championMetrics[PromoteMetric], championMetrics);
    }
}
