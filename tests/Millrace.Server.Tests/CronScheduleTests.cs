using Cronos;
using Millrace.Server.Scheduling;

namespace Millrace.Server.Tests;

/// <summary>Quartz fires a pipeline's cron at exactly the times the validator (Cronos) reads it to mean.</summary>
public sealed class CronScheduleTests
{
    [Theory]
    [InlineData("0 6 * * *", "UTC")]
    [InlineData("30 6 * * 1-5", "Europe/Paris")]
    [InlineData("*/15 * * * *", "UTC")]
    [InlineData("0 0 * * 7", "America/New_York")]
    [InlineData("0 12 * * SUN,WED", "UTC")]
    [InlineData("0 2 L * *", "UTC")]
    [InlineData("0 9 * * 5L", "Asia/Tokyo")]
    [InlineData("5 4 * 1,7 *", "UTC")]
    [InlineData("*/10 * * * * *", "UTC")]
    [InlineData("30 0 6 * * 1-5", "Europe/Paris")]
    [InlineData("0 30 2 * * *", "Europe/London")]
    public void Quartz_and_Cronos_agree_on_the_next_fire_times(string cron, string zone)
    {
        var timeZone = TimeZoneInfo.FindSystemTimeZoneById(zone);
        var cronos = CronExpression.Parse(cron, cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        var quartz = CronSchedules.ToQuartz(cron, timeZone);

        // Across a daylight-saving change in March.
        var from = new DateTimeOffset(2026, 3, 25, 0, 0, 0, TimeSpan.Zero);
        var expected = cronos.GetOccurrences(from, from.AddDays(400), timeZone, fromInclusive: false).Take(40).ToList();
        var actual = new List<DateTimeOffset>();
        for (var t = quartz.GetNextValidTimeAfter(from); t is { } time && actual.Count < expected.Count; t = quartz.GetNextValidTimeAfter(time)) actual.Add(time);

        Assert.NotEmpty(expected);
        Assert.Equal(expected.Select(e => e.UtcDateTime), actual.Select(a => a.UtcDateTime));
    }

    [Fact]
    public void With_both_day_fields_restricted_either_day_fires_as_in_crontab()
    {
        var quartz = CronSchedules.ToQuartz("0 0 1 * 0", TimeZoneInfo.Utc);
        var days = new List<DateTimeOffset>();
        for (var t = quartz.GetNextValidTimeAfter(new DateTimeOffset(2026, 3, 25, 0, 0, 0, TimeSpan.Zero)); t is { } time && days.Count < 4; t = quartz.GetNextValidTimeAfter(time)) days.Add(time);

        Assert.Equal([new DateOnly(2026, 3, 29), new DateOnly(2026, 4, 1), new DateOnly(2026, 4, 5), new DateOnly(2026, 4, 12)], days.Select(d => DateOnly.FromDateTime(d.UtcDateTime)));
    }

    [Fact]
    public void Missed_fire_times_keep_the_most_recent_ones()
    {
        var quartz = CronSchedules.ToQuartz("0 * * * *", TimeZoneInfo.Utc);
        var after = new DateTimeOffset(2026, 1, 1, 0, 30, 0, TimeSpan.Zero);

        var missed = CronSchedules.Missed(quartz, after, after.AddHours(5), keep: 2);

        Assert.Equal([new DateTimeOffset(2026, 1, 1, 4, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 1, 1, 5, 0, 0, TimeSpan.Zero)], missed);
        Assert.Empty(CronSchedules.Missed(quartz, after, after.AddMinutes(20), keep: 3));
    }
}
