using Millrace.Definitions;
using Millrace.Definitions.Options;
using Millrace.Engine;
using Millrace.Learning;
using Millrace.Quality;
using Millrace.Reports;

using YamlDotNet.RepresentationModel;

namespace Millrace.Steps;

/// <summary>
/// <c>model_report</c>: the built-in report of a registered model, published like a <c>report</c> step's to
/// <c>reports/&lt;name&gt;/&lt;run.date&gt;/</c>: metrics over versions, the champion's (or the named version's)
/// confusion matrix, ROC curve (on the first input that has the label column), feature importance, and the drift of
/// the latest batch. Listing a train step of the same workflow among the inputs runs the report after it, and the
/// report then includes the version that step registers.
/// </summary>
public sealed class ModelReportStep : IStep
{
    public required string Model { get; init; }
    public string? Title { get; init; }
    public string? Name { get; init; }
    public string? Label { get; init; }
    public double DriftThreshold { get; init; } = DriftProfile.DefaultThreshold;
    public bool SkipWhenMissing { get; init; }

    public static StepKind Kind { get; } = StepKind.Create<ModelReportOptions>(
        "model_report",
        "Render the built-in report of a model: metrics over versions, confusion matrix, ROC curve, feature importance, drift of the latest batch.",
        Parse);

    static IStep? Parse(StepDefinition definition, YamlNodeReader reader, ModelReportOptions options)
    {
        var model = PredictStep.ModelReferenceOption(definition.Options, reader);
        ReportStep.CheckName(definition.Options, reader, options.Name);
        if (model is null) return null;
        return new ModelReportStep
        {
            Model = model, Title = options.Title, Name = options.Name, Label = options.Label,
            DriftThreshold = options.DriftThreshold, SkipWhenMissing = options.OnMissingModel == MissingModelPolicy.Skip,
        };
    }

    public async ValueTask<StepResult> ExecuteAsync(StepContext context, CancellationToken ct)
    {
        ModelReference reference;
        try { reference = ModelReference.Parse(context.Expand(Model)); }
        catch (FormatException e) { throw new StepFailedException(e.Message, e); }
        var versions = await ModelReportBuilder.VersionsAsync(context, reference.Name, ct);
        var aliases = await ModelReportBuilder.AliasesAsync(context, reference.Name, ct);
        var featuredVersion = reference.Version ?? (aliases.TryGetValue(reference.Alias!, out var v) ? v : (int?)null);
        var featured = versions.FirstOrDefault(m => m.Version == featuredVersion);
        if (featured is null)
        {
            var message = versions.Count == 0
                ? $"model '{reference.Name}' has no registered version yet"
                : $"model {reference} does not exist (versions: {string.Join(", ", versions.Select(m => "v" + m.Version))})";
            if (!SkipWhenMissing) throw new StepFailedException(message + "; train it first, or set on_missing_model: skip");
            await context.LogAsync(message + "; no model report (on_missing_model: skip)", ct, "warn");
            await ReportOutput.WriteKpiTableAsync(context, [], ct);
            return new StepResult(0, new Dictionary<string, object?> { ["model"] = reference.ToString(), ["skipped"] = true });
        }

        var output = new ReportOutput(context, Name ?? $"model_{reference.Name}", ReportOutput.RunDateOf(context));
        var problems = new List<string>();
        var previous = KpiHistory.FindPrevious(await output.HistoryFolderAsync(ct), output.RunDate, problems);
        foreach (var problem in problems) await context.LogAsync($"skipped an unreadable KPI history file: {problem}", ct, "warn");
        var builder = new ModelReportBuilder(context, output, previous);
        var title = Title is null ? $"Model {reference.Name}" : context.Expand(Title);
        var document = await builder.BuildAsync(title, reference, versions, aliases, featured, Label, DriftThreshold, ct);
        var snapshot = new KpiSnapshot(output.Name, document.Title, output.RunDate, context.RunId, previous?.RunDate, builder.Kpis.Select(KpiHistory.ToRecord).ToList());
        var files = await output.PublishAsync(HtmlReportRenderer.Render(document), snapshot, ct);
        await ReportOutput.WriteKpiTableAsync(context, builder.Kpis, ct);
        await context.LogAsync($"model report '{output.Name}' for {featured.Name}@v{featured.Version} ({versions.Count} version(s)) is published to {output.Folder}/ when the run commits", ct);
        return new StepResult(builder.Kpis.Count, new Dictionary<string, object?>
        {
            ["report"] = output.Name,
            ["title"] = document.Title,
            ["model"] = featured.Name,
            ["version"] = featured.Version,
            ["path"] = $"{output.Folder}/index.html",
            ["files"] = files,
            ["previous_run_date"] = previous?.RunDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            ["kpis"] = snapshot.Kpis.Select(k => new Dictionary<string, object?> { ["label"] = k.Label, ["value"] = k.Value, ["previous"] = k.Previous, ["change"] = k.Change }).ToList(),
        });
    }
}
