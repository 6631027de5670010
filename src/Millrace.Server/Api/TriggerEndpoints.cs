using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Millrace.Definitions;
using Millrace.Definitions.Options;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Server.Triggers;
using Millrace.Storage;

namespace Millrace.Server.Api;

/// <summary>One date of a landing trigger as the API shows it (states in lower case: <c>waiting</c>, <c>late_recorded</c>, …).</summary>
public sealed record LandingDateView(string Date, string State, IReadOnlyList<string> Missing, string? FilesetHash, string? RunId, DateTimeOffset UpdatedAt, string? Note);

/// <summary>A pipeline's landing trigger, this node's poll status and the dates recorded in the range asked for.</summary>
public sealed record LandingTriggerView(string Pipeline, IReadOnlyList<string> Feeds, string Settle, string Poll, string LateWindow, string OnLate, string From,
    long Polls, DateTimeOffset? LastPollAt, string? LastError, DateTimeOffset? LastErrorAt, IReadOnlyList<LandingDateView> Dates);

/// <summary><c>GET …/pipelines/{name}/trigger</c>: what a landing trigger waits for, per date.</summary>
public static class TriggerEndpoints
{
    /// <summary>The longest range of dates one request may ask for.</summary>
    public const int MaxDays = 366;

    /// <summary>The range answered when none is given: this many days up to the newest date recorded.</summary>
    public const int DefaultDays = 31;

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId}/pipelines/{name}/trigger", GetAsync).WithTags("Pipelines")
            .RequireRole(TokenRole.Viewer).WithSummary("A pipeline's landing trigger: its feeds, this node's polls and each date's state (waiting with the missing feeds, settling, started, late, …)")
            .Produces<LandingTriggerView>().ProducesProblem(400).ProducesProblem(404);
    }

    static async Task<IResult> GetAsync(HttpContext http, string name, string? from, string? to, LandingWatcher watcher)
    {
        var host = Access.CallerOf(http).Host;
        if (!host.Definition.Pipelines.TryGetValue(name, out var pipeline)) return ProjectEndpoints.NoPipeline(host, name);
        if (pipeline.Trigger is not { } trigger)
            return Problems.NotFound($"pipeline '{name}' has no landing trigger (add trigger: {{ when_landed: [\"raw/events/dt={{date}}/*.csv\"], from: 2026-01-01 }} to {pipeline.Location.File})");
        if (ParseDate(from, "from") is { Problem: { } fromProblem }) return Problems.BadRequest("Bad date", fromProblem);
        if (ParseDate(to, "to") is { Problem: { } toProblem }) return Problems.BadRequest("Bad date", toProblem);
        var ct = http.RequestAborted;
        var dates = await LandingDatesAsync(host.Store, host.Id, name, ParseDate(from, "from").Date, ParseDate(to, "to").Date, ct);
        if (dates.Problem is { } rangeProblem) return Problems.BadRequest("Bad range", rangeProblem);
        var status = watcher.Status(host.Id, name);
        return TypedResults.Ok(new LandingTriggerView(name, trigger.Feeds.Select(f => f.Pattern).ToList(), Durations.Format(trigger.Settle), Durations.Format(trigger.Poll),
            Durations.Format(trigger.LateWindow), OptionsShape.ChoiceName(trigger.OnLate), Text(trigger.From),
            status?.Polls ?? 0, status?.LastPollAt, status?.LastError, status?.LastErrorAt, dates.Dates.Select(View).ToList()));
    }

    /// <summary>
    /// The dates of a trigger from <paramref name="from"/> to <paramref name="to"/>; without both, the
    /// <see cref="DefaultDays"/> up to the newest date and every date still open. A range out of order or longer than
    /// <see cref="MaxDays"/> is a problem (the UI shares this).
    /// </summary>
    public static async Task<(IReadOnlyList<LandingDate> Dates, string? Problem)> LandingDatesAsync(ILandingStore store, string projectId, string pipeline,
        DateOnly? from, DateOnly? to, CancellationToken ct)
    {
        if (from is null && to is null)
        {
            var newest = await store.GetNewestLandingDateAsync(projectId, pipeline, ct);
            if (newest is null) return ([], null);
            var recent = await store.ListLandingDatesAsync(projectId, pipeline, newest.Value.AddDays(1 - DefaultDays), newest.Value, ct);
            var open = await store.ListOpenLandingDatesAsync(projectId, pipeline, ct);
            return (recent.Concat(open).DistinctBy(d => d.Date).OrderBy(d => d.Date).ToList(), null);
        }
        var (first, last) = (from ?? to!.Value.AddDays(1 - DefaultDays), to ?? from!.Value.AddDays(DefaultDays - 1));
        if (last < first) return ([], "'to' is before 'from'");
        if (last.DayNumber - first.DayNumber >= MaxDays) return ([], string.Create(CultureInfo.InvariantCulture, $"a range covers at most {MaxDays} dates"));
        return (await store.ListLandingDatesAsync(projectId, pipeline, first, last, ct), null);
    }

    static (DateOnly? Date, string? Problem) ParseDate(string? text, string name)
    {
        if (text is null) return (null, null);
        return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? (date, null)
            : (null, $"'{name}' must be a date written yyyy-MM-dd, got '{(text.Length > 40 ? text[..40] + "…" : text)}'");
    }

    static string Text(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    static LandingDateView View(LandingDate date) =>
        new(Text(date.Date), OptionsShape.ChoiceName(date.State), date.Missing, date.FilesetHash, date.RunId, date.UpdatedAt, date.Note);
}
