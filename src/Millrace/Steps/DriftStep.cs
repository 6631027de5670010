using System.Globalization;
using Millrace.Definitions;
using Millrace.Definitions.Options;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Learning;
using Millrace.Parameters;
using Millrace.Quality;
using Millrace.Storage;

using YamlDotNet.RepresentationModel;

namespace Millrace.Steps;

/// <summary>
/// <c>drift</c>: the population stability index (PSI) of each feature of the batch against a reference — the data
/// a model was trained on (<c>model: churn@champion</c>, from the profile saved with the version) or a second input
/// (a dataset version, optionally filtered by <c>where</c>). Numeric features are binned by the reference's deciles,
/// categorical ones by its frequent values. Results are stored per run and feature; a feature above the threshold
/// (0.3 by default) is a drift anomaly, and <c>on_drift: fail</c> stops the run.
/// </summary>
public sealed class DriftStep : IStep
{
    public string? Model { get; init; }
    public string? Where { get; init; }
    public IReadOnlyList<string> Columns { get; init; } = [];
    public double Threshold { get; init; } = DriftProfile.DefaultThreshold;
    public bool FailOnDrift { get; init; }
    public bool SkipWhenMissing { get; init; }

    public static StepKind Kind { get; } = StepKind.Create<DriftOptions>(
        "drift",
        "Measure per-feature drift (PSI) of the input against a model's training data or a reference input; warn or fail above a threshold.",
        Parse);

    static IStep? Parse(StepDefinition definition, YamlNodeReader reader, DriftOptions options)
    {
        var map = definition.Options;
        var model = options.Model;
        if (model is null && definition.Inputs.Count != 2) reader.Error(map, "a drift step needs a reference: 'model: name@alias', or a second input (inputs: [batch, reference])");
        if (model is not null && definition.Inputs.Count != 1) reader.Error(map, "with 'model:' a drift step takes one input (the batch)");
        // As for predict: a malformed reference is a definition error, and the project's model references are checked.
        if (model is not null && PredictStep.ModelReferenceOption(map, reader) is null) return null;
        return new DriftStep
        {
            Model = model, Where = options.Where, Columns = options.Columns, Threshold = options.Threshold,
            FailOnDrift = options.OnDrift == WarnOrFail.Fail, SkipWhenMissing = options.OnMissingModel == MissingModelPolicy.Skip,
        };
    }

    public async ValueTask<StepResult> ExecuteAsync(StepContext context, CancellationToken ct)
    {
        var batch = context.InputTable(context.Step.Inputs[0]);
        var batchSchema = DuckDb.Describe(context.Connection, batch);
        IReadOnlyList<FeatureProfile> reference;
        string referenceName;
        if (Model is not null)
        {
            ModelReference modelReference;
            try { modelReference = ModelReference.Parse(context.Expand(Model)); }
            catch (FormatException e) { throw new StepFailedException(e.Message, e); }
            var version = await new ModelRegistry(context.Store, context.Lake).ResolveAsync(modelReference, ct);
            if (version is null)
            {
                if (!SkipWhenMissing) throw new StepFailedException($"model {modelReference} does not exist; drift needs a trained model as its reference (or on_missing_model: skip)");
                await context.LogAsync($"model {modelReference} does not exist yet; no drift measured", ct, "warn");
                await DuckDb.ExecuteAsync(context.Connection, $"CREATE TABLE {context.OutputTable} (feature VARCHAR, psi DOUBLE, threshold DOUBLE, drifted BOOLEAN, reference VARCHAR)", ct);
                return new StepResult(0, new Dictionary<string, object?> { ["skipped"] = true });
            }
            if (version.Profile.Count == 0) throw new StepFailedException($"model {version.Name}@v{version.Version} has no saved training profile (it was trained by an older Millrace); retrain it");
            reference = version.Profile.Where(p => p.Feature != "__prediction__" && (Columns.Count == 0 || Columns.Contains(p.Feature))).ToList();
            referenceName = $"{version.Name}@v{version.Version}";
        }
        else
        {
            var referenceTable = context.InputTable(context.Step.Inputs[1]);
            var referenceSchema = DuckDb.Describe(context.Connection, referenceTable);
            var shared = referenceSchema.Where(c => batchSchema.Any(b => b.Name == c.Name) && (Columns.Count == 0 || Columns.Contains(c.Name)))
                .Select(c => (c.Name, Role: FeaturePlan.RoleOf(c.Type))).Where(c => c.Role is FeaturePlan.Numeric or FeaturePlan.Boolean or FeaturePlan.Categorical)
                .Select(c => (c.Name, c.Role != FeaturePlan.Categorical)).ToList();
            var where = Where is null ? null : context.ExpandSqlExpression(Where);
            reference = await Task.Run(() => DriftProfile.Profile(context.Connection, referenceTable, shared, where), ct);
            referenceName = context.Step.Inputs[1] + (Where is null ? "" : $" where {Where}");
        }
        var missing = reference.Where(p => !batchSchema.Any(c => c.Name == p.Feature)).Select(p => p.Feature).ToList();
        if (missing.Count > 0) throw new StepFailedException($"the batch lacks feature column(s) of the reference {referenceName}: {string.Join(", ", missing)}");

        var results = new List<DriftResult>();
        foreach (var profile in reference)
        {
            var actual = await Task.Run(() => DriftProfile.Proportions(context.Connection, batch, profile), ct);
            results.Add(new DriftResult(context.RunId, context.Workflow, context.Step.Id, profile.Feature, Math.Round(DriftProfile.Psi(profile.Proportions, actual), 6), referenceName, context.Clock.GetUtcNow()));
        }
        await context.Store.AddDriftResultsAsync(results, ct);
        var drifted = results.Where(r => r.Psi > Threshold).OrderByDescending(r => r.Psi).ToList();
        foreach (var result in drifted)
            await context.ReportAnomalyAsync("drift", FailOnDrift ? AnomalySeverity.Error : AnomalySeverity.Warning, FailOnDrift ? "fail" : "warn",
                string.Create(CultureInfo.InvariantCulture, $"feature '{result.Feature}' drifted from {referenceName}: PSI {result.Psi:0.000} > {Threshold:0.###}"),
                new { feature = result.Feature, psi = result.Psi, threshold = Threshold, reference = referenceName }, ct);

        await DuckDb.ExecuteAsync(context.Connection, $"""
            CREATE TABLE {context.OutputTable} (feature VARCHAR, psi DOUBLE, threshold DOUBLE, drifted BOOLEAN, reference VARCHAR);
            {(results.Count == 0 ? "" : $"INSERT INTO {context.OutputTable} VALUES {string.Join(", ", results.Select(r => string.Create(CultureInfo.InvariantCulture, $"({SqlText.Quote(r.Feature)}, {r.Psi:R}, {Threshold:R}, {(r.Psi > Threshold ? "TRUE" : "FALSE")}, {SqlText.Quote(referenceName)})")))};")}
            """, ct);
        if (drifted.Count > 0 && FailOnDrift)
            throw new StepFailedException($"{drifted.Count} feature(s) drifted from {referenceName}: {string.Join(", ", drifted.Select(d => string.Create(CultureInfo.InvariantCulture, $"{d.Feature} (PSI {d.Psi:0.000})")))}");
        return new StepResult(results.Count, new Dictionary<string, object?>
        {
            ["rows"] = await DuckDb.CountAsync(context.Connection, batch, ct), ["reference"] = referenceName, ["threshold"] = Threshold, ["max_psi"] = results.Count == 0 ? 0 : results.Max(r => r.Psi),
            ["drifted"] = drifted.Select(d => d.Feature).ToList(),
        });
    }
}
