using Millrace.Datasets;
using Millrace.Definitions;
using Millrace.Definitions.Options;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Parameters;
using Millrace.Reports;
using YamlDotNet.RepresentationModel;

namespace Millrace.Steps;

/// <summary>
/// <c>report</c>: a pre-defined report — a title and sections of KPIs (one SQL value each, with the change against the
/// report's previous run), charts (line, bar, scatter, histogram), tables and text — rendered over the step's inputs
/// to one self-contained HTML page (inline CSS, inline SVG charts, no script, nothing from the network), a CSV per
/// table and the run's KPI values, published by the commit to <c>reports/&lt;name&gt;/&lt;run.date&gt;/</c>. The
/// output is one row per KPI: label, value, previous, change.
/// </summary>
public sealed class ReportStep : IStep
{
    public required ReportDefinition Definition { get; init; }
    /// <summary>The report's folder under <c>reports/</c>; null means the step id.</summary>
    public string? Name { get; init; }

    public static StepKind Kind { get; } = StepKind.Create<ReportOptions>(
        "report",
        "Render a pre-defined report (KPIs with change against the previous run, charts, tables, text) over the inputs to HTML + CSV under reports/<name>/<run.date>/.",
        Parse);

    static IStep? Parse(StepDefinition definition, YamlNodeReader reader, ReportOptions options)
    {
        CheckName(definition.Options, reader, options.Name);
        if (options.Sections is null) return null;
        var report = ReportDefinition.Parse(definition.Options, reader, options.Title ?? definition.Id);
        return report is null ? null : new ReportStep { Definition = report, Name = options.Name };
    }

    /// <summary>Checks a report's <c>name</c> (a folder name: no parameters, no path).</summary>
    internal static void CheckName(YamlMappingNode map, YamlNodeReader reader, string? name)
    {
        if (name is not null && !(name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')))
            reader.Error(YamlNodeReader.Find(map, "name")!, $"report name '{name}' is a folder name: letters, digits, '_' and '-' only (no parameters, no '/')");
    }

    public async ValueTask<StepResult> ExecuteAsync(StepContext context, CancellationToken ct)
    {
        foreach (var input in context.Step.Inputs)
        {
            var (name, version) = DatasetReference.Parse(input);
            if (version is not null)
                await DuckDb.ExecuteAsync(context.Connection, $"CREATE OR REPLACE TEMP VIEW {SqlText.Identifier(name)} AS SELECT * FROM {context.InputTable(input)}", ct);
        }
        var output = new ReportOutput(context, Name ?? context.Step.Id, ReportOutput.RunDateOf(context));
        var problems = new List<string>();
        var previous = KpiHistory.FindPrevious(await output.HistoryFolderAsync(ct), output.RunDate, problems);
        foreach (var problem in problems) await context.LogAsync($"skipped an unreadable KPI history file: {problem}", ct, "warn");

        var builder = new ReportBuilder(context, output, previous);
        var document = await builder.BuildAsync(Definition, ct);
        var html = HtmlReportRenderer.Render(document);
        var snapshot = new KpiSnapshot(output.Name, document.Title, output.RunDate, context.RunId, previous?.RunDate, builder.Kpis.Select(KpiHistory.ToRecord).ToList());
        var files = await output.PublishAsync(html, snapshot, ct);
        await ReportOutput.WriteKpiTableAsync(context, builder.Kpis, ct);
        await context.LogAsync($"report '{output.Name}' ({builder.Kpis.Count} KPI(s), {builder.Tables.Count} table(s)) is published to {output.Folder}/ when the run commits", ct);
        return new StepResult(builder.Kpis.Count, new Dictionary<string, object?>
        {
            ["report"] = output.Name,
            ["title"] = document.Title,
            ["path"] = $"{output.Folder}/index.html",
            ["files"] = files,
            ["previous_run_date"] = previous?.RunDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            ["kpis"] = snapshot.Kpis.Select(k => new Dictionary<string, object?> { ["label"] = k.Label, ["value"] = k.Value, ["previous"] = k.Previous, ["change"] = k.Change }).ToList(),
        });
    }
}
