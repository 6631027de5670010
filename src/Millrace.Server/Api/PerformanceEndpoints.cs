using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Builder;
using Millrace.Learning;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Api;

/// <summary>One realized-performance point as the API shows it.</summary>
public sealed record PerformancePointView(string ScoreDate, int Version, string Variant, IReadOnlyDictionary<string, double> Metrics,
    long ScoredRows, long LabelledRows, double Coverage, string RunId, DateTimeOffset RecordedAt);

/// <summary>A version's holdout metrics: the figures it was registered (and promoted) on, the reference lines of the series.</summary>
public sealed record HoldoutView(int Version, IReadOnlyDictionary<string, double> Metrics);

/// <summary>A model's realized performance: the task's metric names, each version's holdout figures and the points by score date.</summary>
public sealed record PerformanceView(string Model, string Task, IReadOnlyList<string> MetricNames, string? From, string? To, int? Version,
    IReadOnlyList<HoldoutView> Holdout, IReadOnlyList<PerformancePointView> Points);

/// <summary>
/// <c>GET /api/v1/projects/{id}/models/{name}/performance?from=&amp;to=&amp;version=</c>: the realized-performance series
/// the <c>evaluate</c> step records. The CLI's <c>models performance --format json</c> and the model page read the same view.
/// </summary>
public static class PerformanceEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId}/models/{name}/performance", async (HttpContext http, string name, string? from, string? to, string? version) =>
            {
                var host = Access.CallerOf(http).Host;
                if (!TryQuery(from, to, version, out var range, out var problem)) return problem!;
                var view = await ReadAsync(host.Store, host.Id, name, range.Version, range.From, range.To, http.RequestAborted);
                return view is null ? Problems.NotFound($"no model '{name}' (see GET .../models)") : TypedResults.Ok(view);
            })
            .RequireRole(TokenRole.Viewer).WithTags("Models")
            .WithSummary("A model's realized performance per score date, version and variant (champion, shadow), with each version's holdout metrics")
            .Produces<PerformanceView>().ProducesProblem(400).ProducesProblem(404);
    }

    /// <summary>Parses the query: dates yyyy-MM-dd, a positive version; a 400 with the parameter and value otherwise.</summary>
    static bool TryQuery(string? from, string? to, string? version, out (DateOnly? From, DateOnly? To, int? Version) range, out IResult? problem)
    {
        range = default;
        problem = null;
        DateOnly? Date(string? text, string parameter, ref IResult? problem)
        {
            if (text is null) return null;
            if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)) return date;
            problem ??= Problems.BadRequest("Invalid query", $"'{parameter}' must be a date yyyy-MM-dd, got '{Shown(text)}'");
            return null;
        }
        var first = Date(from, "from", ref problem);
        var last = Date(to, "to", ref problem);
        int? number = null;
        if (version is not null)
        {
            var text = version.StartsWith('v') ? version[1..] : version;
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0) number = n;
            else problem ??= Problems.BadRequest("Invalid query", $"'version' must be a version number such as 3 or v3, got '{Shown(version)}'");
        }
        if (problem is null && first > last) problem = Problems.BadRequest("Invalid query", $"'from' ({from}) is after 'to' ({to})");
        range = (first, last, number);
        return problem is null;
    }

    /// <summary>A query value as an error quotes it: at most 40 characters, control characters escaped.</summary>
    static string Shown(string text) =>
        string.Concat((text.Length > 40 ? text[..40] + "…" : text).Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));

    /// <summary>The series of <paramref name="model"/> in <paramref name="projectId"/>; null when the registry has no such model.</summary>
    public static async Task<PerformanceView?> ReadAsync(IMetadataStore store, string projectId, string model, int? version, DateOnly? from, DateOnly? to, CancellationToken ct)
    {
        var versions = await store.ListModelVersionsAsync(model, ct);
        if (versions.Count == 0) return null;
        var points = await store.ListPerformanceAsync(projectId, model, version, from, to, ct);
        var task = versions[0].Task;
        string Text(DateOnly? d) => d?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "";
        var shown = points.Select(p => p.Version).ToHashSet();
        return new PerformanceView(model, task.ToString().ToLowerInvariant(), RealizedMetrics.Names(task), from is null ? null : Text(from), to is null ? null : Text(to), version,
            [.. versions.Where(v => shown.Contains(v.Version) || v.Version == version).OrderBy(v => v.Version).Select(v => new HoldoutView(v.Version, v.Metrics))],
            [.. points.Select(p => new PerformancePointView(Text(p.ScoreDate), p.Version, p.Variant.ToString().ToLowerInvariant(), p.Metrics,
                p.ScoredRows, p.LabelledRows, Math.Round(p.Coverage, 6), p.RunId, p.RecordedAt))]);
    }
}
