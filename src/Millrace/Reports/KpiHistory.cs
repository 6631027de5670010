using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Millrace.Reports;

/// <summary>One KPI as kept in a report run's <c>kpis.json</c>.</summary>
public sealed record KpiRecord(string Label, double? Value, double? Previous, double? Change, string Format);

/// <summary>The KPIs of one run of a report: <c>reports/&lt;name&gt;/&lt;run.date&gt;/kpis.json</c>.</summary>
public sealed record KpiSnapshot(string Report, string Title, DateOnly RunDate, string? RunId, DateOnly? PreviousDate, IReadOnlyList<KpiRecord> Kpis);

/// <summary>
/// Reads and writes the KPI history of a report. Each published run of a report keeps its KPI values in its own
/// folder; the next run compares against the latest earlier run date present in the lake, so a backfill of an old
/// day compares with the day before it, not with today.
/// </summary>
public static class KpiHistory
{
    public const string FileName = "kpis.json";

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// The snapshot of the latest run date before <paramref name="runDate"/> under <paramref name="reportFolder"/>
    /// (the absolute path of <c>reports/&lt;name&gt;</c>), or null when there is none. A file that cannot be read is
    /// skipped (and named in <paramref name="problems"/>) rather than failing the report.
    /// </summary>
    public static KpiSnapshot? FindPrevious(string reportFolder, DateOnly runDate, ICollection<string>? problems = null)
    {
        if (!Directory.Exists(reportFolder)) return null;
        var earlier = Directory.EnumerateDirectories(reportFolder)
            .Select(d => (Path: d, Ok: DateOnly.TryParseExact(System.IO.Path.GetFileName(d), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date), Date: date))
            .Where(d => d.Ok && d.Date < runDate)
            .OrderByDescending(d => d.Date);
        foreach (var (path, _, _) in earlier)
        {
            var file = System.IO.Path.Combine(path, FileName);
            if (!File.Exists(file)) continue;
            try
            {
                return JsonSerializer.Deserialize<KpiSnapshot>(File.ReadAllText(file), Json) ?? throw new JsonException("empty");
            }
            catch (JsonException e)
            {
                problems?.Add($"{file}: {e.Message}");
            }
        }
        return null;
    }

    /// <summary>The previous value of the KPI labelled <paramref name="label"/> in <paramref name="snapshot"/>.</summary>
    public static double? PreviousValue(KpiSnapshot? snapshot, string label) =>
        snapshot?.Kpis.FirstOrDefault(k => k.Label == label)?.Value;

    public static string Serialize(KpiSnapshot snapshot) => JsonSerializer.Serialize(snapshot, Json).ReplaceLineEndings("\n") + "\n";

    public static KpiSnapshot? Deserialize(string json) => JsonSerializer.Deserialize<KpiSnapshot>(json, Json);

    /// <summary>The record of a KPI value for the snapshot.</summary>
    public static KpiRecord ToRecord(KpiValue kpi) =>
        new(kpi.Label, kpi.Value, kpi.Previous, kpi.Change, kpi.Format.ToString().ToLowerInvariant());
}
