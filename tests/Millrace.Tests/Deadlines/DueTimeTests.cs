using Millrace.Definitions;

namespace Millrace.Tests.Deadlines;

/// <summary>When a date is due, in its time zone, across daylight saving time changes (Europe/Berlin).</summary>
public sealed class DueTimeTests
{
    static readonly DueTime Berlin7 = new(new TimeOnly(7, 0), "Europe/Berlin", 0);

    static DateTimeOffset Utc(int year, int month, int day, int hour, int minute = 0) => new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public void Seven_in_Berlin_is_six_UTC_in_winter_and_five_UTC_in_summer()
    {
        Assert.Equal(Utc(2026, 1, 15, 6), Berlin7.DueAt(new DateOnly(2026, 1, 15)));
        Assert.Equal(Utc(2026, 7, 15, 5), Berlin7.DueAt(new DateOnly(2026, 7, 15)));
    }

    [Fact]
    public void On_the_days_the_clocks_change_the_offset_of_that_day_applies()
    {
        // 29 March 2026: 02:00 CET becomes 03:00 CEST; 25 October 2026: 03:00 CEST becomes 02:00 CET.
        Assert.Equal(Utc(2026, 3, 28, 6), Berlin7.DueAt(new DateOnly(2026, 3, 28)));
        Assert.Equal(Utc(2026, 3, 29, 5), Berlin7.DueAt(new DateOnly(2026, 3, 29)));
        Assert.Equal(Utc(2026, 10, 25, 6), Berlin7.DueAt(new DateOnly(2026, 10, 25)));
    }

    [Fact]
    public void A_time_the_clocks_skip_moves_forward_by_the_gap_and_a_time_that_occurs_twice_is_its_first()
    {
        var skipped = new DueTime(new TimeOnly(2, 30), "Europe/Berlin", 0);

        Assert.Equal(Utc(2026, 3, 29, 1, 30), skipped.DueAt(new DateOnly(2026, 3, 29)));   // 03:30 CEST
        Assert.Equal(Utc(2026, 10, 25, 0, 30), skipped.DueAt(new DateOnly(2026, 10, 25))); // the first 02:30, CEST
    }

    [Fact]
    public void Yesterday_makes_a_date_due_the_next_day()
    {
        var next = new DueTime(new TimeOnly(7, 0), "Europe/Berlin", 1);

        Assert.Equal(Utc(2026, 1, 16, 6), next.DueAt(new DateOnly(2026, 1, 15)));
        Assert.Equal([new DateOnly(2026, 1, 14), new DateOnly(2026, 1, 15)], next.PassedDates(Utc(2026, 1, 16, 6), TimeSpan.FromDays(1)));
    }

    [Fact]
    public void The_passed_dates_are_those_whose_due_time_is_in_the_lookback_window()
    {
        var day = TimeSpan.FromDays(1);
        // 05:59 UTC on 15 January is 06:59 in Berlin: the 15th is not due yet; at 06:00 UTC it is.
        Assert.Equal([new DateOnly(2026, 1, 14)], Berlin7.PassedDates(Utc(2026, 1, 15, 5, 59), day));
        Assert.Equal([new DateOnly(2026, 1, 14), new DateOnly(2026, 1, 15)], Berlin7.PassedDates(Utc(2026, 1, 15, 6), day));
        Assert.Equal([new DateOnly(2026, 1, 15)], Berlin7.PassedDates(Utc(2026, 1, 15, 6), TimeSpan.FromHours(1)));
        Assert.Empty(Berlin7.PassedDates(Utc(2026, 1, 15, 5, 59), TimeSpan.FromHours(1)));
        // 23:30 UTC on 15 January is already the 16th in Berlin; the 16th is not due until 06:00 UTC.
        Assert.Equal([new DateOnly(2026, 1, 15)], Berlin7.PassedDates(Utc(2026, 1, 15, 23, 30), day));
    }
}
