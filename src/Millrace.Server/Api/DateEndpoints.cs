using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Millrace.Engine.Dates;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Api;

/// <summary>A pipeline's per-date status (<see cref="PipelineDates"/>), a page of dates at a time.</summary>
public static class DateEndpoints
{
    /// <summary>The most dates one page holds (a year); a longer range is read page by page with <c>nextFrom</c>.</summary>
    public const int MaxPageDates = 366;

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId}/pipelines/{name}/dates", ListAsync)
            .RequireRole(TokenRole.Viewer).WithTags("Pipelines")
            .WithSummary($"One status per run date from 'from' to 'to' (default: the last {PipelineDates.DefaultDates} dates up to today), oldest first; at most 'limit' (≤ {MaxPageDates}) dates a page, the rest from 'nextFrom'")
            .Produces<DatePage>().ProducesProblem(400).ProducesProblem(404);
    }

    static async Task<IResult> ListAsync(HttpContext http, string name, string? from, string? to, string? limit, TimeProvider clock)
    {
        var host = Access.CallerOf(http).Host;
        if (!host.Definition.Pipelines.ContainsKey(name)) return ProjectEndpoints.NoPipeline(host, name);
        var (defaultFrom, defaultTo) = PipelineDates.DefaultRange(clock);
        if (!TryDate(from, "from", defaultFrom, out var first, out var problem) || !TryDate(to, "to", defaultTo, out var last, out problem)) return problem!;
        if (from is null && to is not null) first = last.AddDays(1 - PipelineDates.DefaultDates);
        if (PipelineDates.RangeProblem(first, last) is { } wrong) return Problems.BadRequest("Bad date range", wrong);
        var pageSize = MaxPageDates;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxPageDates))
            return Problems.BadRequest("Bad limit", $"limit must be a whole number from 1 to {MaxPageDates}, got '{limit}'");

        var pageLast = last.DayNumber - first.DayNumber >= pageSize ? first.AddDays(pageSize - 1) : last;
        var dates = await new PipelineDates(host.Store, host.Id).ListAsync(name, first, pageLast, http.RequestAborted);
        return TypedResults.Ok(new DatePage(name, Text(first), Text(pageLast), [.. dates.Select(View)], pageSize,
            pageLast < last ? Text(pageLast.AddDays(1)) : null));
    }

    /// <summary>What the API (and <c>millrace status --json</c>) says about one date.</summary>
    public static DateView View(PipelineDate date) => new(Text(date.Date), DateStatusNames.Name(date.Status),
        date.LatestRun is { } run ? Views.Run(run) : null, date.RunCount,
        date.RunCounts.OrderBy(c => c.Key).ToDictionary(c => Views.Lower(c.Key), c => c.Value, StringComparer.Ordinal),
        date.MissingFeeds, date.StaleReason, date.DeadlineMissedAt, date.Note);

    static bool TryDate(string? text, string name, DateOnly fallback, out DateOnly date, out IResult? problem)
    {
        problem = null;
        date = fallback;
        if (text is null || DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date)) return true;
        problem = Problems.BadRequest("Bad date", $"'{name}' must be a date yyyy-MM-dd, got '{(text.Length > 40 ? text[..40] + "…" : text)}'");
        return false;
    }

    static string Text(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
