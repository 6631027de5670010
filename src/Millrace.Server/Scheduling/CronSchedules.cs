using Quartz;

namespace Millrace.Server.Scheduling;

/// <summary>
/// Turns a pipeline's cron (5 fields as in crontab, or 6 with seconds first; day-of-week 0-7 with 0 and 7 Sunday,
/// as the validator reads it with Cronos) into Quartz's cron. Quartz numbers days of the week 1-7 from Sunday, so the
/// five crontab fields go through Quartz's own Unix reader and the seconds field is put back in front.
/// </summary>
public static class CronSchedules
{
    /// <summary>The Quartz expression for <paramref name="cron"/> in <paramref name="timeZone"/>; throws <see cref="FormatException"/>.</summary>
    public static CronExpression ToQuartz(string cron, TimeZoneInfo timeZone)
    {
        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var expression = fields.Length switch
        {
            5 => CronExpression.Parse(string.Join(' ', fields), CronFormat.Unix),
            6 => WithSeconds(fields[0], CronExpression.Parse(string.Join(' ', fields[1..]), CronFormat.Unix)),
            _ => throw new FormatException($"cron '{cron}' has {fields.Length} fields; write 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)"),
        };
        return expression.WithTimeZone(timeZone);
    }

    static CronExpression WithSeconds(string seconds, CronExpression minutesAndUp)
    {
        // The Unix reader puts "0" in the seconds field; the rest is already Quartz's spelling.
        var quartz = minutesAndUp.CronExpressionString.Split(' ');
        quartz[0] = seconds;
        return CronExpression.Parse(string.Join(' ', quartz), CronFormat.Quartz);
    }

    /// <summary>The fire times strictly after <paramref name="after"/> and at or before <paramref name="until"/>, the last <paramref name="keep"/> of them.</summary>
    public static IReadOnlyList<DateTimeOffset> Missed(CronExpression expression, DateTimeOffset after, DateTimeOffset until, int keep)
    {
        var kept = new Queue<DateTimeOffset>();
        var next = expression.GetNextValidTimeAfter(after);
        // A bound on the walk: a per-second cron over a long outage is still a few hundred thousand steps at most.
        for (var steps = 0; next is { } time && time <= until && steps < 5_000_000; steps++)
        {
            kept.Enqueue(time);
            if (kept.Count > keep) kept.Dequeue();
            next = expression.GetNextValidTimeAfter(time);
        }
        return kept.ToList();
    }
}
