using System.Globalization;
using Millrace.Cli.Output;
using Millrace.Samples.Churn;
using Millrace.Storage;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary>
/// The quickstart's summary: the days, the planted anomalies and delivery problems and whether they were caught, the
/// runs by trigger, the late data with its stale marks, the deadline alerts, what was skipped as up to date, and the
/// model versions.
/// </summary>
static class QuickstartSummary
{
    const string Prediction = "prediction";

    public static void PrintDays(IAnsiConsole console, IReadOnlyList<QuickstartDay> results)
    {
        var table = new Table().Title("simulated days").AddColumns("day", "events", "churned", "active", "prediction", "scored", "training", "model", "anomalies");
        foreach (var r in results)
            table.AddRow(Text(r.Day.Date), Terminal.Rows(r.Day.Events), Terminal.Rows(r.Day.Churned), Terminal.Rows(r.Day.ActiveCustomers),
                (r.Prediction is null ? "[red]not started[/]" : $"{Terminal.StatusMarkup(r.Prediction.Status)} {Terminal.Duration(r.Prediction.Duration)}")
                    + string.Concat(r.Reruns.Select(x => $"\n+ rerun {x.RunDate:MM-dd} {Terminal.StatusMarkup(x.Status)}")),
                Terminal.Rows(r.Scored),
                r.Training is null ? "" : $"{Terminal.StatusMarkup(r.Training.Status)} {Terminal.Duration(r.Training.Duration)}", Markup.Escape(r.Model ?? ""),
                r.Anomalies.Count == 0 ? "" : $"[yellow]{Markup.Escape(r.Kinds)}[/]");
        console.Write(table);

        // What the generator planted, and whether the loop caught it on its day.
        var planted = new Table().Title("planted anomalies").AddColumns("day", "planted", "detected that day");
        foreach (var anomaly in ChurnLakeGenerator.Anomalies.Where(a => a.Day < results.Count))
        {
            var found = results[anomaly.Day].Anomalies.Reverse().Where(a => a.Kind.Contains(anomaly.Kind, StringComparison.Ordinal) || (anomaly.Kind == "drift" && a.Kind == "prediction_drift")).ToList();
            planted.AddRow(Text(results[anomaly.Day].Day.Date), Markup.Escape($"{anomaly.Kind}: {anomaly.Description}"),
                found.Count == 0 ? (anomaly.Kind == "drift" && results[anomaly.Day].Training is null && results[anomaly.Day].Scored == 0 ? "[grey]no champion yet to compare with[/]" : "[red]no[/]") : $"[green]yes[/]: {Markup.Escape(found[0].Message)}");
        }
        console.Write(planted);
        // A drift lasts: after the price rise, every day differs from what the champion learnt, until it is retrained on it.
        var driftDay = ChurnLakeGenerator.Anomalies.Single(a => a.Kind == "drift").Day;
        var clean = results.Where((r, i) => !ChurnLakeGenerator.Anomalies.Any(a => a.Day == i) && r.Deliveries.Count == 0
            && r.Anomalies.Any(a => !(i > driftDay && a.Kind is "drift" or "prediction_drift"))).ToList();
        console.MarkupLine(clean.Count == 0
            ? "no anomaly reported on the clean days"
            : $"[yellow]{clean.Count} clean day(s) with anomalies:[/] {Markup.Escape(string.Join("; ", clean.Select(c => $"{c.Day.Date:yyyy-MM-dd} {c.Kinds}")))}");
    }

    /// <summary>The delivery problems, the runs by trigger, the stale marks, the deadline alerts and the up-to-date skips, from the store.</summary>
    public static async Task PrintDataAwareAsync(IAnsiConsole console, IMetadataStore store, string projectId, IReadOnlyList<QuickstartDay> results, CancellationToken ct)
    {
        var deliveries = new Table().Title("planted delivery problems (landing trigger)").AddColumns("day", "what landed", "what the loop did");
        foreach (var (r, i) in results.Select((r, i) => (r, i)).Where(x => x.r.Deliveries.Count > 0))
        {
            var did = i == QuickstartLoop.LateDay + 1 && r.Reruns.Count > 0
                ? $"[green]reran {r.Reruns[0].RunDate:yyyy-MM-dd}[/] (run {r.Reruns[0].Id}, {Terminal.StatusMarkup(r.Reruns[0].Status)}) after marking its first run's outputs stale"
                : i == QuickstartLoop.MissedDay && r.Misses.Count > 0
                    ? $"[green]alerted[/]: {Markup.Escape(string.Join("; ", r.Misses.Select(m => $"{m.AnomalyKind} at {m.RecordedAt:HH:mm}")))}; the date ran when the file landed ({(r.Prediction is null ? "not run" : Terminal.StatusMarkup(r.Prediction.Status))})"
                    : i == QuickstartLoop.LateDay ? "[grey]scored what had landed[/]" : "[red]nothing[/]";
            deliveries.AddRow(Text(r.Day.Date), Markup.Escape(string.Join("; ", r.Deliveries)), did);
        }
        if (deliveries.Rows.Count > 0) console.Write(deliveries);

        var runs = await store.FindRunsAsync(new RunFilter(projectId), new Page(0, 10_000), ct);
        console.MarkupLine(Markup.Escape("runs by trigger: " + string.Join("; ", runs.GroupBy(r => r.Target).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
            $"{g.Key} {string.Join(", ", g.GroupBy(TriggerLabel).OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Count()} {t.Key}"))}"))));

        var marks = await store.ListStaleAsync(projectId, Prediction, null, null, ct);
        foreach (var mark in marks)
            console.MarkupLine(Markup.Escape($"stale: what run {mark.RunId} published for {Text(mark.RunDate)} ({mark.Reason}); " +
                (mark.Open ? "still open" : $"cleared by run {mark.ClearedByRunId}")));
        if (marks.Count == 0) console.MarkupLine("stale: no output was marked stale");

        var first = results.Count > 0 ? results[0].Day.Date : DateOnly.MinValue;
        var last = results.Count > 0 ? results[^1].Day.Date : DateOnly.MinValue;
        var misses = await store.ListDeadlineMissesAsync(projectId, Prediction, first, last, ct);
        foreach (var miss in misses)
            console.MarkupLine(Markup.Escape($"alert: {miss.AnomalyKind} for {Text(miss.RunDate)} (due {miss.DueAt:yyyy-MM-dd HH:mm}Z, {miss.DueText}): {miss.Missing}; " +
                (miss.MetAt is { } met ? $"met late at {met:HH:mm}Z" : "not met")));
        if (misses.Count == 0) console.MarkupLine("alerts: every date was done by its deadline");

        var upToDate = 0;
        foreach (var run in runs)
            upToDate += (await store.GetWorkflowRunsAsync(run.Id, ct)).Count(w => w.Status == RunStatus.UpToDate);
        var noNewVersion = results.Count(r => r.Training?.Status == RunStatus.UpToDate || r.Model?.StartsWith("no new version", StringComparison.Ordinal) == true);
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"up to date: {upToDate} workflow run(s) skipped (inputs unchanged since their last success); {noNewVersion} nightly training(s) registered no new version")));
    }

    /// <summary>How a run was started, as the summary counts it: a late-file rerun apart from the landing trigger's first runs.</summary>
    static string TriggerLabel(Run run) => run.Trigger == TriggerKind.Landing && run.RunKey?.StartsWith("late:", StringComparison.Ordinal) == true
        ? "landing (late-file rerun)" : run.Trigger.ToString().ToLowerInvariant();

    public static async Task PrintModelsAsync(IAnsiConsole console, IMetadataStore store, string projectId, CancellationToken ct)
    {
        var datasets = await store.ListDatasetsAsync(ct);
        console.MarkupLine(Markup.Escape("datasets: " + string.Join(", ", datasets.Select(d => $"{d.Dataset} v{d.Version} ({d.Rows:N0} rows)"))));
        var versions = await store.ListModelVersionsAsync("churn", ct);
        if (versions.Count == 0) { console.MarkupLine("no model trained yet (training starts on day " + (QuickstartLoop.TrainingStartDay + 1) + ")"); return; }
        var aliases = await store.GetAliasesAsync("churn", ct);
        console.MarkupLine(Markup.Escape($"model churn: {versions.Count} version(s); " + string.Join(", ", aliases.Select(a => $"{a.Key} = v{a.Value}"))));
        foreach (var entry in (await store.GetAliasHistoryAsync("churn", ct)).Reverse())
            console.MarkupLine(Markup.Escape($"  {entry.At:yyyy-MM-dd HH:mm:ss} {entry.Alias} -> v{entry.Version}: {entry.Reason}"));
        // Realized performance: the served scores against the churn that happened within 14 days (the evaluate workflow).
        var points = (await store.ListPerformanceAsync(projectId, "churn", null, null, null, ct)).Where(p => p.Variant == PredictionVariant.Champion && p.Metrics.ContainsKey("auc")).OrderBy(p => p.ScoreDate).ToList();
        if (points.Count == 0)
            console.MarkupLine("realized performance: none yet: the served scores' 14-day churn horizon has not passed (the first scores are evaluated 14 days after them; try --days 45)");
        else
        {
            var holdout = versions.ToDictionary(v => v.Version, v => v.Metrics.GetValueOrDefault("auc"));
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"realized performance: {points.Count} score date(s) evaluated, {points[0].ScoreDate:yyyy-MM-dd} to {points[^1].ScoreDate:yyyy-MM-dd}; realized auc {points.Min(p => p.Metrics["auc"]):0.000}..{points.Max(p => p.Metrics["auc"]):0.000}, the last {points[^1].Metrics["auc"]:0.000} (v{points[^1].Version}, holdout {holdout.GetValueOrDefault(points[^1].Version):0.000}); millrace models performance churn")));
        }
    }

    static string Text(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
