using Microsoft.ML;
using Millrace.Definitions;
using Millrace.Definitions.Options;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Learning;
using Millrace.Parameters;
using Millrace.Storage;

using YamlDotNet.RepresentationModel;

namespace Millrace.Steps;

/// <summary>
/// <c>predict</c>: scores the input with a registered model (<c>name@champion</c>, <c>name@vN</c>, any alias). The
/// input must have the model's feature columns with compatible types (an error names each one that does not). The
/// output is the input's columns plus <c>score</c>, <c>probability</c> and <c>predicted_label</c> (classifiers),
/// <c>model_version</c> and <c>run_id</c>; with <c>explain: N</c>, then <c>reason_1, reason_1_contribution, …</c>
/// (<see cref="FeatureContributions"/>).
/// </summary>
public sealed class PredictStep : IStep
{
    public required string Model { get; init; }
    public bool SkipWhenMissing { get; init; }

    /// <summary>Reasons per row (0: none).</summary>
    public int Explain { get; init; }
    public double DriftThreshold { get; init; } = Quality.DriftProfile.DefaultThreshold;

    /// <summary>
    /// Prediction drift: the PSI of this batch's scores (probability for classifiers, score for regression) against
    /// the model's scores on its holdout. Stored as feature <c>__prediction__</c>; above the threshold, an anomaly.
    /// </summary>
    async Task<double?> PredictionDriftAsync(StepContext context, ModelVersion version, CancellationToken ct)
    {
        var profile = version.Profile.FirstOrDefault(p => p.Feature == "__prediction__");
        if (profile is null || version.Task == ModelTask.Multiclass) return null;
        var column = version.Task == ModelTask.Binary ? "probability" : "score";
        var relation = $"(SELECT {column} AS \"__prediction__\" FROM {context.OutputTable})";
        var actual = await Task.Run(() => Quality.DriftProfile.Proportions(context.Connection, relation, profile), ct);
        var psi = Math.Round(Quality.DriftProfile.Psi(profile.Proportions, actual), 6);
        var name = $"{version.Name}@v{version.Version}";
        await context.Store.AddDriftResultsAsync([new DriftResult(context.RunId, context.Workflow, context.Step.Id, "__prediction__", psi, name + " holdout scores", context.Clock.GetUtcNow())], ct);
        if (psi > DriftThreshold)
            await context.ReportAnomalyAsync("prediction_drift", AnomalySeverity.Warning, "warn",
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"the {column} distribution drifted from {name}'s holdout: PSI {psi:0.000} > {DriftThreshold:0.###}"),
                new { psi, threshold = DriftThreshold, model = name }, ct);
        return psi;
    }

    /// <summary>The reason columns, all NULL, for the empty output of a skipped step.</summary>
    string NullReasons => string.Concat(FeatureContributions.Columns(Explain).Select(c => $", NULL::{c.Type} AS {c.Name}"));

    public static StepKind Kind { get; } = StepKind.Create<PredictOptions>(
        "predict",
        "Score the input with a registered model (name@champion, name@vN, name@alias); adds score, probability, predicted_label, model_version, run_id.",
        Parse);

    static IStep? Parse(StepDefinition definition, YamlNodeReader reader, PredictOptions options)
    {
        var map = definition.Options;
        if (definition.Inputs.Count != 1) reader.Error(map, $"a predict step needs exactly one input (the rows to score), has {definition.Inputs.Count}");
        // A malformed reference is reported here; later checks (the project's model references) must not parse it again.
        var model = ModelReferenceOption(map, reader);
        return model is null ? null : new PredictStep { Model = model, SkipWhenMissing = options.OnMissingModel == MissingModelPolicy.Skip, DriftThreshold = options.DriftThreshold, Explain = options.Explain ?? 0 };
    }

    /// <summary>The <c>model</c> option when it is present and, unless it holds parameters, a well-formed reference (else reported).</summary>
    internal static string? ModelReferenceOption(YamlMappingNode map, YamlNodeReader reader)
    {
        if (YamlNodeReader.Find(map, "model") is not YamlScalarNode { Value: { } model } node) return null;
        if (model.Contains('$', StringComparison.Ordinal)) return model;
        try { ModelReference.Parse(model); }
        catch (FormatException e)
        {
            reader.Error(node, e.Message);
            return null;
        }
        return model;
    }

    public async ValueTask<StepResult> ExecuteAsync(StepContext context, CancellationToken ct)
    {
        ModelReference reference;
        try { reference = ModelReference.Parse(context.Expand(Model)); }
        catch (FormatException e) { throw new StepFailedException(e.Message, e); }
        var registry = new ModelRegistry(context.Store, context.Lake);
        var version = await registry.ResolveAsync(reference, ct);
        var input = context.SingleInput;
        if (version is null)
        {
            var known = await context.Store.ListModelVersionsAsync(reference.Name, ct);
            var message = known.Count == 0 ? $"model '{reference.Name}' has no registered version yet" : $"model {reference} does not exist (versions: {string.Join(", ", known.Select(k => "v" + k.Version))})";
            if (!SkipWhenMissing) throw new StepFailedException(message + "; train it first, or set on_missing_model: skip");
            await context.LogAsync(message + "; nothing scored (on_missing_model: skip)", ct, "warn");
            await DuckDb.ExecuteAsync(context.Connection,
                $"CREATE TABLE {context.OutputTable} AS SELECT *, NULL::DOUBLE AS score, NULL::DOUBLE AS probability, NULL::VARCHAR AS predicted_label, NULL::INTEGER AS model_version, NULL::VARCHAR AS run_id{NullReasons} FROM {input} WHERE FALSE", ct);
            return new StepResult(0, new Dictionary<string, object?> { ["model"] = reference.ToString(), ["skipped"] = true });
        }

        FeaturePlan.CheckInput(version.Features, DuckDb.Describe(context.Connection, input), $"{version.Name}@v{version.Version}");
        var started = context.Clock.GetTimestamp();
        long ElapsedMs() => (long)context.Clock.GetElapsedTime(started).TotalMilliseconds;
        var ml = new MLContext(seed: 0);
        var model = await registry.LoadAsync(ml, version, ct);
        var loadMs = ElapsedMs();
        var numbered = $"__score_input_{context.Step.Id}";
        var predictions = $"__score_output_{context.Step.Id}";
        var inputTable = ModelScorer.Number(context.Connection, input, numbered);
        var numberMs = ElapsedMs();
        long rows;
        try { rows = await Task.Run(() => ModelScorer.Score(ml, model, version, context.Connection, inputTable, predictions, explain: Explain), ct); }
        catch (ModelCannotExplainException e)
        {
            await DuckDb.ExecuteAsync(context.Connection, $"DROP TABLE IF EXISTS {inputTable}", ct);
            throw new StepFailedException($"explain: {Explain}: {e.Message}", e);
        }
        var scoreMs = ElapsedMs();
        var scoreColumns = version.Task == ModelTask.Regression ? "p.score" : "p.score, p.probability, p.predicted_label";
        var reasonColumns = string.Concat(FeatureContributions.Columns(Explain).Select(c => ", p." + c.Name));
        await DuckDb.ExecuteAsync(context.Connection, $"""
            CREATE TABLE {context.OutputTable} AS
            SELECT i.* EXCLUDE ({ModelScorer.RowColumn}), {scoreColumns}, {version.Version} AS model_version, {SqlText.Quote(context.RunId)} AS run_id{reasonColumns}
            FROM {inputTable} i JOIN {SqlText.Identifier(predictions)} p USING ({ModelScorer.RowColumn})
            ORDER BY i.{ModelScorer.RowColumn};
            DROP TABLE {inputTable};
            DROP TABLE {SqlText.Identifier(predictions)};
            """, ct);
        await context.LogAsync($"scored {rows} rows with {version.Name}@v{version.Version} ({reference})", ct);
        var predictionPsi = await PredictionDriftAsync(context, version, ct);
        return new StepResult(rows, new Dictionary<string, object?>
        {
            ["model"] = version.Name, ["version"] = version.Version, ["reference"] = reference.ToString(),
            ["prediction_psi"] = predictionPsi, ["explain"] = Explain == 0 ? null : Explain,
            ["load_ms"] = loadMs, ["number_ms"] = numberMs - loadMs, ["score_ms"] = scoreMs - numberMs, ["join_ms"] = ElapsedMs() - scoreMs,
        });
    }
}
