namespace Millrace.Definitions;

/// <summary>
/// When something about run date D is due: at <see cref="By"/> (a time of day in <see cref="Timezone"/>) on day
/// D + <see cref="DateLag"/> (0 for <c>date: today</c>, 1 for <c>date: yesterday</c>).
/// </summary>
public sealed record DueTime(TimeOnly By, string Timezone, int DateLag)
{
    /// <summary>The time zone (checked by the loader, so it exists).</summary>
    public TimeZoneInfo Zone => TimeZoneInfo.FindSystemTimeZoneById(Timezone);

    /// <summary><see cref="By"/> as written, <c>HH:mm</c>.</summary>
    public string ByText => By.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The instant run date <paramref name="runDate"/> is due.</summary>
    public DateTimeOffset DueAt(DateOnly runDate) => At(runDate.AddDays(DateLag), By, Zone);

    /// <summary>
    /// The run dates whose due instant is in the window from <paramref name="now"/> minus <paramref name="lookback"/>
    /// to <paramref name="now"/> (both included), oldest first.
    /// </summary>
    public IReadOnlyList<DateOnly> PassedDates(DateTimeOffset now, TimeSpan lookback)
    {
        var zone = Zone;
        var since = now - lookback;
        var result = new List<DateOnly>();
        // Calendar days in the zone from the window's start (one more before it: a day's time may fall after midnight UTC) to today.
        var first = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(since, zone).DateTime).AddDays(-1);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        for (var day = first; day <= today; day = day.AddDays(1))
            if (At(day, By, zone) is var due && due >= since && due <= now) result.Add(day.AddDays(-DateLag));
        return result;
    }

    /// <summary>
    /// The instant a wall-clock time occurs on <paramref name="day"/> in <paramref name="zone"/>. A time the clocks skip
    /// (02:30 when they go from 02:00 to 03:00) is moved forward by the gap (03:30); a time that occurs twice (02:30 when
    /// they go back from 03:00 to 02:00) is its first occurrence.
    /// </summary>
    public static DateTimeOffset At(DateOnly day, TimeOnly time, TimeZoneInfo zone)
    {
        var local = day.ToDateTime(time, DateTimeKind.Unspecified);
        TimeSpan offset;
        if (zone.IsInvalidTime(local)) offset = zone.GetUtcOffset(local.AddHours(-6));
        else if (zone.IsAmbiguousTime(local)) offset = zone.GetAmbiguousTimeOffsets(local).Max();
        else offset = zone.GetUtcOffset(local);
        return new DateTimeOffset(DateTime.SpecifyKind(local - offset, DateTimeKind.Utc)).ToUniversalTime();
    }
}

/// <summary><c>deadline: { by, timezone, date }</c>: a run of the pipeline for each date must have succeeded by its due time.</summary>
public sealed record DeadlineDefinition(DueTime Due, SourceLocation Location);

/// <summary>
/// One entry of <c>freshness:</c>: files matching <see cref="Feed"/> (a lake glob with <c>{date}</c>) must be in the
/// lake by the due time of each date.
/// </summary>
public sealed record FreshnessDefinition(string Feed, DueTime Due, SourceLocation Location)
{
    /// <summary>What <c>{date}</c> stands for in a feed: the run date as <c>yyyy-MM-dd</c>.</summary>
    public const string DatePlaceholder = "{date}";

    /// <summary>The feed's glob for <paramref name="runDate"/>.</summary>
    public string PatternFor(DateOnly runDate) =>
        Feed.Replace(DatePlaceholder, runDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
