using System.Globalization;
using Millrace.Definitions;
using Millrace.Server.Hosting;
using Millrace.Storage;

namespace Millrace.Server.Ui;

/// <summary>The pipeline page's deadline and freshness section: each check and its state for the recent run dates.</summary>
static class DeadlineSection
{
    /// <summary>How many recent run dates the section shows.</summary>
    const int Days = 7;

    public static async Task<Html> RenderAsync(ProjectHost host, PipelineDefinition pipeline, CancellationToken ct)
    {
        var checks = new List<(DeadlineKind Kind, string Feed, DueTime Due)>();
        if (pipeline.Deadline is { } deadline) checks.Add((DeadlineKind.Deadline, "", deadline.Due));
        checks.AddRange(pipeline.Freshness.Select(f => (DeadlineKind.Freshness, f.Feed, f.Due)));
        if (checks.Count == 0) return Html.Empty;
        var now = host.Clock.GetUtcNow();
        var dates = checks.SelectMany(c => Enumerable.Range(0, Days).Select(i => Today(c.Due, now).AddDays(-c.Due.DateLag - i))).ToList();
        var misses = (await host.Store.ListDeadlineMissesAsync(host.Id, pipeline.Name, dates.Min(), dates.Max(), ct)).ToDictionary(m => (m.Kind, m.RunDate, m.Feed));
        var runs = await host.Store.FindRunsAsync(new RunFilter(host.Id, pipeline.Name, RunStatus.Succeeded), new Page(0, 200), ct);
        var rows = new List<Html>();
        foreach (var (kind, feed, due) in checks)
            for (var i = 0; i < Days; i++)
            {
                var date = Today(due, now).AddDays(-due.DateLag - i);
                var dueAt = due.DueAt(date);
                Html state;
                if (misses.GetValueOrDefault((kind, date, feed)) is { } miss)
                    state = Html.Of($"{UiLayout.Badge("missed")} {miss.Missing}{(miss.MetAt is { } met ? Html.Of($"; met late at {UiLayout.Time(met)}") : Html.Empty)}");
                else if (dueAt > now) state = Html.Of($"<span class=\"muted\">due</span>");
                else if (kind == DeadlineKind.Freshness) state = Html.Of($"{UiLayout.Badge("met")}");
                else if (runs.Where(r => r.RunDate == date && r.TargetKind == "pipeline" && r.EndedAt <= dueAt).MinBy(r => r.EndedAt) is { } run)
                    state = Html.Of($"{UiLayout.Badge("met")} <a href=\"{UiUrls.Run(host.Id, run.Id)}\" class=\"mono\">{run.Id}</a>");
                else state = Html.Of($"<span class=\"muted\">no miss recorded</span>");
                rows.Add(Html.Of($"""
                    <tr data-kind="{kind.ToString().ToLowerInvariant()}" data-date="{date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}"><td>{date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}</td>
                    <td>{(kind == DeadlineKind.Deadline ? Html.Text("deadline") : Html.Of($"freshness <code>{feed}</code>"))}</td><td>{due.ByText} {due.Timezone} ({UiLayout.Time(dueAt)})</td><td>{state}</td></tr>
                    """));
            }
        return Html.Of($"""
            <h2>Deadlines <a class="more" href="{UiUrls.Anomalies(host.Id)}{UiUrls.Query(("kind", pipeline.Deadline is null ? "freshness_missed" : "deadline_missed"))}">anomalies</a></h2>
            {UiLayout.Table(["Run date", "Check", "Due", "State"], rows, "No deadlines.", "deadlines")}
            <p class="muted">The server evaluates deadlines and feeds every poll interval; a miss is recorded once, as an anomaly, and sent to the deadline.missed / freshness.missed webhooks.</p>
            """);
    }

    static DateOnly Today(DueTime due, DateTimeOffset now) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, due.Zone).DateTime);
}
