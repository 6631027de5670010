using System.Globalization;
using Millrace.Cli.Output;
using Millrace.Samples.Churn;
using Millrace.Storage;

namespace Millrace.Cli.Commands;

/// <summary>
/// What one simulated day did, read back from the run records: the date's prediction run (null when it never
/// started: its feeds did not land), the reruns of earlier dates that late files started that day, the nightly
/// training, the deadline and freshness misses recorded that day, and what the delivery plan did to the day's files.
/// </summary>
sealed record QuickstartDay(
    ChurnDay Day, Run? Prediction, IReadOnlyList<Run> Reruns, Run? Training, long? Scored, string? Model,
    IReadOnlyList<Anomaly> Anomalies, IReadOnlyList<DeadlineMiss> Misses, IReadOnlyList<string> Deliveries, string? Waiting)
{
    public static async Task<QuickstartDay> ReadAsync(IMetadataStore store, ChurnDay day, Run? prediction, IReadOnlyList<Run> reruns, Run? training,
        IReadOnlyList<DeadlineMiss> misses, IReadOnlyList<string> deliveries, string? waiting, CancellationToken ct)
    {
        long? scored = prediction is null ? null : (await store.GetStepRunsAsync(prediction.Id, ct)).FirstOrDefault(s => s.StepId == "scored")?.Rows;
        var anomalies = new List<Anomaly>();
        foreach (var run in new[] { prediction, training }.OfType<Run>().Concat(reruns))
            anomalies.AddRange(await store.FindAnomaliesAsync(run.Id, new Page(0, 100), ct));
        // Deadline and freshness misses belong to no run: they are the day's alerts.
        var missIds = misses.Select(m => m.AnomalyId).ToHashSet(StringComparer.Ordinal);
        foreach (var kind in misses.Select(m => m.AnomalyKind).Distinct(StringComparer.Ordinal))
            anomalies.AddRange((await store.FindAnomaliesAsync(null, kind, new Page(0, 1000), ct)).Where(a => missIds.Contains(a.Id)));
        return new QuickstartDay(day, prediction, reruns, training, scored, await ModelAsync(store, training, ct), anomalies, misses, deliveries, waiting);
    }

    /// <summary>What the training did to the registry: a new version (promoted or not), or none (inputs unchanged).</summary>
    static async Task<string?> ModelAsync(IMetadataStore store, Run? training, CancellationToken ct)
    {
        if (training is null || (await store.GetStepRunsAsync(training.Id, ct)).FirstOrDefault(s => s.Kind == "train") is not { DetailsJson: { } json })
            return training?.Status == RunStatus.UpToDate ? "up to date: same inputs as the last training" : null;
        using var details = System.Text.Json.JsonDocument.Parse(json);
        var root = details.RootElement;
        return root.TryGetProperty("up_to_date", out var upToDate) ? upToDate.GetString()
            : root.TryGetProperty("registered", out var registered) && !registered.GetBoolean()
            ? string.Create(CultureInfo.InvariantCulture, $"no new version: same training inputs as v{root.GetProperty("version").GetInt32()}")
            : string.Create(CultureInfo.InvariantCulture,
                $"v{root.GetProperty("version").GetInt32()} auc {root.GetProperty("value").GetDouble():0.000} {(root.GetProperty("promoted").GetBoolean() ? "promoted" : "kept as challenger")}");
    }

    /// <summary>True when the day ended as the loop needs to go on: its date ran and succeeded, and so did its training.</summary>
    public bool Succeeded => Prediction is { } p && p.Status.IsSuccess() && Reruns.All(r => r.Status.IsSuccess())
        && Training is null or { Status: RunStatus.Succeeded or RunStatus.UpToDate };

    /// <summary>The run that stopped the loop, or null (the date never started: see <see cref="Waiting"/>).</summary>
    public Run? Failed => Prediction is { } p && !p.Status.IsSuccess() ? p
        : Reruns.FirstOrDefault(r => !r.Status.IsSuccess()) ?? (Training is { Status: not (RunStatus.Succeeded or RunStatus.UpToDate) } ? Training : null);

    public string Line() =>
        $"day {Day.Date:yyyy-MM-dd}: {Day.Events:N0} events landed; " +
        (Prediction is null ? $"prediction not started ({Waiting})" : $"prediction {Prediction.Status.Label()} {Terminal.Duration(Prediction.Duration)}") +
        (Scored is { } s ? $", {s:N0} customers scored" : "") +
        string.Concat(Reruns.Select(r => $"; rerun of {r.RunDate:yyyy-MM-dd} for late files {r.Status.Label()} {Terminal.Duration(r.Duration)}")) +
        (Training is null ? "" : $"; training {Training.Status.Label()} {Terminal.Duration(Training.Duration)}{(Model is null ? "" : ": " + Model)}") +
        (Anomalies.Count == 0 ? "" : $"; anomalies: {Kinds}") +
        string.Concat(Deliveries.Select(d => $"; {d}"));

    public string Kinds => string.Join(", ", Anomalies.GroupBy(a => a.Kind).Select(g => g.Count() == 1 ? g.Key : $"{g.Key} x{g.Count()}"));
}
