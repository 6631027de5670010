using Millrace.Definitions;
using Millrace.Definitions.Options;
using Millrace.Server.Api;
using Millrace.Server.Triggers;
using Millrace.Storage;

namespace Millrace.Server.Ui;

/// <summary>The landing trigger's part of a pipeline page: its feeds, this node's last poll and a small table of dates.</summary>
static class TriggerPages
{
    public static async Task<Html> SectionAsync(UiRequest request, PipelineDefinition pipeline)
    {
        if (pipeline.Trigger is not { } trigger) return Html.Empty;
        var host = request.Host;
        var (dates, _) = await TriggerEndpoints.LandingDatesAsync(host.Store, host.Id, pipeline.Name, null, null, request.Aborted);
        var status = request.Service<LandingWatcher>().Status(host.Id, pipeline.Name);
        var rows = dates.OrderByDescending(d => d.Date).Take(TriggerEndpoints.DefaultDays).Select(d => Html.Of($"""
            <tr><td>{d.Date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)}</td><td><span class="badge {Css(d.State)}">{OptionsShape.ChoiceName(d.State)}</span></td>
            <td>{(d.Missing.Count == 0 ? Html.Empty : Html.Of($"<code>{string.Join(", ", d.Missing)}</code>"))}</td>
            <td>{(d.RunId is null ? Html.Empty : Html.Of($"<a href=\"{UiUrls.Run(host.Id, d.RunId)}\">{d.RunId}</a>"))}</td><td>{d.Note ?? ""}</td></tr>
            """)).ToList();
        var poll = status switch
        {
            null => Html.Of($"<span class=\"muted\">not polled on this node yet</span>"),
            { LastError: { } error } => Html.Of($"<span class=\"badge failed\">failing</span> {error}"),
            _ => Html.Of($"{(status.LastPollAt is { } at ? UiLayout.Time(at) : Html.Empty)}"),
        };
        return Html.Of($"""
            <h2>Landing trigger</h2>
            <div class="card">{UiLayout.Facts(
                ("Feeds", Html.Of($"<code>{string.Join(", ", trigger.Feeds.Select(f => f.Pattern))}</code>")),
                ("Settle", Html.Text($"{Durations.Format(trigger.Settle)}, poll every {Durations.Format(trigger.Poll)}, late files: {OptionsShape.ChoiceName(trigger.OnLate)} within {Durations.Format(trigger.LateWindow)}")),
                ("From", Html.Text(trigger.From.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture))),
                ("Last poll", poll))}</div>
            {UiLayout.Table(["Date", "State", "Missing", "Run", "Note"], rows, "No date seen yet.")}
            """);
    }

    static string Css(LandingState state) => state switch
    {
        LandingState.Started => "succeeded",
        LandingState.NeverSettling => "failed",
        LandingState.Waiting or LandingState.Late => "queued",
        _ => "running",
    };
}
