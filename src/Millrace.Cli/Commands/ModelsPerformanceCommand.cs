using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Millrace.Cli.Output;
using Millrace.Server.Api;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace models performance NAME [--from D] [--to D] [--version N] [--format table|json]</c>: the realized
/// performance the evaluate step recorded, one row per score date, version and variant, and a sparkline of the
/// task's first metric per version beside the holdout figure it was registered on.
/// </summary>
public static class ModelsPerformanceCommand
{
    static readonly JsonSerializerOptions JsonOutput = new(JsonSerializerOptions.Web) { WriteIndented = true };

    const string Bars = "▁▂▃▄▅▆▇█";

    public static Command Create(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "The model." };
        var from = new Option<string?>("--from") { Description = "First score date, yyyy-MM-dd." };
        var to = new Option<string?>("--to") { Description = "Last score date, yyyy-MM-dd (inclusive)." };
        var version = new Option<int?>("--version") { Description = "One version only." };
        var format = new Option<string>("--format") { Description = "table or json (the API's shape).", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("performance", "Realized performance per score date and version (recorded by an evaluate step), with the holdout metric each version was registered on.");
        command.Arguments.Add(name);
        foreach (var option in new Option[] { from, to, version, format }) command.Options.Add(option);
        command.SetAction(context.Guard(async (parse, ct) =>
        {
            DateOnly? first = parse.GetValue(from) is { } f ? StatusCommand.ParseDate(f, "--from") : null;
            DateOnly? last = parse.GetValue(to) is { } t ? StatusCommand.ParseDate(t, "--to") : null;
            if (first > last) throw new CliException($"--from {parse.GetValue(from)} is after --to {parse.GetValue(to)}", CliApp.UsageError);
            var project = context.LoadProject(parse);
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            var model = parse.GetValue(name)!;
            var view = await PerformanceEndpoints.ReadAsync(store, project.Id, model, parse.GetValue(version), first, last, ct)
                ?? throw new CliException($"no model '{model}' (see 'millrace models list')");
            if (parse.GetValue(format) == "json")
            {
                await context.Output.WriteLineAsync(JsonSerializer.Serialize(view, JsonOutput));
                return CliApp.Success;
            }
            var console = Terminal.For(context);
            if (view.Points.Count == 0)
            {
                console.MarkupLine(Markup.Escape($"no realized performance recorded for {model} yet: an evaluate step records it once labels arrive"));
                return CliApp.Success;
            }
            var table = new Table().AddColumns(["score date", "version", "variant", "labelled", "scored", "coverage", .. view.MetricNames]);
            foreach (var p in view.Points)
                table.AddRow([p.ScoreDate, $"v{p.Version}", p.Variant, Terminal.Rows(p.LabelledRows), Terminal.Rows(p.ScoredRows), p.Coverage.ToString("P0", CultureInfo.InvariantCulture),
                    .. view.MetricNames.Select(m => p.Metrics.TryGetValue(m, out var v) ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "")]);
            console.Write(table);
            foreach (var line in Sparklines(view)) console.MarkupLine(Markup.Escape(line));
            return CliApp.Success;
        }));
        return command;
    }

    /// <summary>Per version and variant: the first metric's series as bars (scaled to its own range), its last value and the holdout figure.</summary>
    internal static IEnumerable<string> Sparklines(PerformanceView view)
    {
        var metric = view.MetricNames[0];
        foreach (var series in view.Points.GroupBy(p => (p.Version, p.Variant)))
        {
            var values = series.Select(p => p.Metrics.TryGetValue(metric, out var v) ? v : (double?)null).ToList();
            var known = values.OfType<double>().ToList();
            if (known.Count == 0) continue;
            var (low, high) = (known.Min(), known.Max());
            var bars = string.Concat(values.Select(v => v is not { } x ? ' ' : Bars[high == low ? Bars.Length / 2 : (int)Math.Round((x - low) / (high - low) * (Bars.Length - 1))]));
            var holdout = view.Holdout.FirstOrDefault(h => h.Version == series.Key.Version)?.Metrics.GetValueOrDefault(metric);
            yield return string.Create(CultureInfo.InvariantCulture,
                $"v{series.Key.Version} {series.Key.Variant} {metric} {bars} {low:0.000}..{high:0.000}, last {known[^1]:0.000}{(holdout is { } h && h != 0 ? $", holdout {h:0.000}" : "")}");
        }
    }
}
