using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Millrace.Cli.Output;
using Millrace.Engine.Dates;
using Millrace.Server.Api;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace status PIPELINE [--from D] [--to D] [--json]</c>: one line per run date (default: the last 14 dates up
/// to today), with the date's status (<see cref="PipelineDates"/>), its latest run and what it waits for, then a
/// summary line.
/// </summary>
public static class StatusCommand
{
    static readonly JsonSerializerOptions JsonOutput = new(JsonSerializerOptions.Web) { WriteIndented = true };

    public static Command Create(CliContext context)
    {
        var target = new Argument<string>("pipeline") { Description = "Pipeline (or workflow) whose run dates to list." };
        var from = new Option<string?>("--from") { Description = $"First date, yyyy-MM-dd (default: {PipelineDates.DefaultDates - 1} days before --to)." };
        var to = new Option<string?>("--to") { Description = "Last date, yyyy-MM-dd, inclusive (default: today, UTC)." };
        var json = new Option<bool>("--json") { Description = "Print the dates as JSON (the API's shape) instead of a table." };
        var command = new Command("status", $"Per-date status of a pipeline: missing, waiting, queued, running, succeeded, failed, stale, up to date, deadline missed (at most {PipelineDates.MaxDates} dates).");
        command.Arguments.Add(target);
        foreach (var option in new Option[] { from, to, json }) command.Options.Add(option);
        command.SetAction(context.Guard(async (parse, ct) =>
        {
            var (first, last) = Range(parse.GetValue(from), parse.GetValue(to), context.Clock);
            var name = parse.GetValue(target)!;
            var project = context.LoadProject(parse);
            if (!project.Pipelines.ContainsKey(name) && !project.Workflows.ContainsKey(name))
                throw new CliException($"no pipeline or workflow '{name}' in project '{project.Id}' (pipelines: {Names(project.Pipelines.Keys)})", CliApp.UsageError);
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            var dates = await new PipelineDates(store, project.Id).ListAsync(name, first, last, ct);

            if (parse.GetValue(json))
            {
                await context.Output.WriteLineAsync(JsonSerializer.Serialize(new DatePage(name, Text(first), Text(last), [.. dates.Select(DateEndpoints.View)], dates.Count, null), JsonOutput));
                return CliApp.Success;
            }
            var console = Terminal.For(context);
            var table = new Table().AddColumns("date", "status", "run", "trigger", "started (UTC)", "time", "runs", "note");
            foreach (var date in dates)
            {
                var run = date.LatestRun;
                table.AddRow(Text(date.Date), StatusMarkup(date.Status), run?.Id ?? "", run is null ? "" : run.Trigger.ToString().ToLowerInvariant(),
                    run?.StartedAt is { } started ? started.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "", Terminal.Duration(run?.Duration),
                    date.RunCount == 0 ? "" : date.RunCount.ToString(CultureInfo.InvariantCulture), Markup.Escape(Truncate(date.Details, 100)));
            }
            console.Write(table);
            console.MarkupLine(Markup.Escape($"{name}: {Summary(dates)}"));
            return CliApp.Success;
        }));
        return command;
    }

    /// <summary>The range of --from/--to: either may be left out (14 dates up to today, or up to --to, or from --from to today).</summary>
    static (DateOnly From, DateOnly To) Range(string? fromText, string? toText, TimeProvider clock)
    {
        var last = toText is null ? PipelineDates.Today(clock) : ParseDate(toText, "--to");
        var first = fromText is null ? last.AddDays(1 - PipelineDates.DefaultDates) : ParseDate(fromText, "--from");
        if (PipelineDates.RangeProblem(first, last) is { } problem) throw new CliException($"--from/--to: {problem}", CliApp.UsageError);
        return (first, last);
    }

    /// <summary>"14 dates: 10 succeeded, 1 failed, 3 missing", in the statuses' order.</summary>
    internal static string Summary(IReadOnlyList<PipelineDate> dates) =>
        $"{dates.Count} date{(dates.Count == 1 ? "" : "s")}: " + string.Join(", ", dates.GroupBy(d => d.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {DateStatusNames.Name(g.Key).Replace('_', ' ')}"));

    public static string StatusMarkup(DateStatus status)
    {
        var name = DateStatusNames.Name(status).Replace('_', ' ');
        return status switch
        {
            DateStatus.Succeeded or DateStatus.UpToDate => $"[green]{name}[/]",
            DateStatus.Failed or DateStatus.DeadlineMissed => $"[red]{name}[/]",
            DateStatus.Cancelled or DateStatus.Stale or DateStatus.Waiting => $"[yellow]{name}[/]",
            DateStatus.Running or DateStatus.Queued => $"[blue]{name}[/]",
            _ => $"[grey]{name}[/]",
        };
    }

    internal static DateOnly ParseDate(string text, string option) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw new CliException($"{option} must be a date yyyy-MM-dd, got '{text}'", CliApp.UsageError);

    static string Names(IEnumerable<string> names) => names.Any() ? string.Join(", ", names.Order(StringComparer.Ordinal)) : "none";

    static string Text(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
