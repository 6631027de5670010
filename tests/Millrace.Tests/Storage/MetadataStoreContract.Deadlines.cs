using Millrace.Storage;

namespace Millrace.Tests.Storage;

/// <summary>
/// Deadline and freshness misses: recorded once per (project, pipeline, kind, date, feed) with their anomaly, however
/// many callers try at once; met and notified set once; listed by date range.
/// </summary>
public abstract partial class MetadataStoreContract
{
    static DeadlineMiss Miss(DateOnly date, DeadlineKind kind = DeadlineKind.Deadline, string feed = "", string pipeline = "daily", string node = "node-a") => new()
    {
        ProjectId = "shop", Pipeline = pipeline, Kind = kind, RunDate = date, Feed = feed, DueAt = T0, DueText = "07:00 Europe/Berlin",
        Missing = "no run for " + date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), RecordedAt = T0, Node = node,
        AnomalyId = Guid.NewGuid().ToString("n"),
    };

    static Anomaly AnomalyFor(DeadlineMiss miss) => new()
    {
        Id = miss.AnomalyId, RunId = "", Kind = miss.AnomalyKind, Severity = AnomalySeverity.Warning, Policy = "alert", Message = miss.Missing, CreatedAt = T0,
    };

    [SkippableFact]
    public async Task A_deadline_miss_is_recorded_once_with_its_anomaly_when_many_callers_record_it_at_once()
    {
        var day = new DateOnly(2026, 1, 15);
        var attempts = Enumerable.Range(0, 8).Select(i => Miss(day, node: $"node-{i}")).ToList();

        var results = await Task.WhenAll(attempts.Select(m => Store.TryRecordDeadlineMissAsync(m, AnomalyFor(m), None)));

        Assert.Equal(1, results.Count(r => r));
        var winner = attempts[Array.IndexOf(results, true)];
        var recorded = Assert.Single(await Store.ListDeadlineMissesAsync("shop", "daily", day, day, None));
        Assert.Equal((winner.Node, winner.AnomalyId, DeadlineKind.Deadline, day, "07:00 Europe/Berlin"), (recorded.Node, recorded.AnomalyId, recorded.Kind, recorded.RunDate, recorded.DueText));
        var anomaly = Assert.Single(await Store.FindAnomaliesAsync(null, new Page(), None));
        Assert.Equal((winner.AnomalyId, "deadline_missed"), (anomaly.Id, anomaly.Kind));
    }

    [SkippableFact]
    public async Task Misses_of_other_kinds_feeds_dates_and_pipelines_are_recorded_apart_and_listed_by_range()
    {
        var day = new DateOnly(2026, 1, 15);
        DeadlineMiss[] misses =
        [
            Miss(day), Miss(day, DeadlineKind.Freshness, "raw/a/{date}.csv"), Miss(day, DeadlineKind.Freshness, "raw/b/{date}.csv"),
            Miss(day.AddDays(1)), Miss(day, pipeline: "weekly"), Miss(day.AddDays(-1)),
        ];
        foreach (var miss in misses) Assert.True(await Store.TryRecordDeadlineMissAsync(miss, AnomalyFor(miss), None));

        var listed = await Store.ListDeadlineMissesAsync("shop", "daily", day, day.AddDays(1), None);

        Assert.Equal([(day, DeadlineKind.Deadline, ""), (day, DeadlineKind.Freshness, "raw/a/{date}.csv"), (day, DeadlineKind.Freshness, "raw/b/{date}.csv"), (day.AddDays(1), DeadlineKind.Deadline, "")],
            listed.Select(m => (m.RunDate, m.Kind, m.Feed)));
        Assert.Equal(5, (await Store.ListDeadlineMissesAsync("shop", null, day, day.AddDays(1), None)).Count);
        Assert.Empty(await Store.ListDeadlineMissesAsync("other", null, day, day, None));
    }

    [SkippableFact]
    public async Task Met_and_notified_are_set_once()
    {
        var miss = Miss(new DateOnly(2026, 1, 15));
        await Store.TryRecordDeadlineMissAsync(miss, AnomalyFor(miss), None);

        Assert.True(await Store.MarkDeadlineMetAsync(miss, T0.AddHours(2), None));
        Assert.False(await Store.MarkDeadlineMetAsync(miss, T0.AddHours(3), None));
        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Store.TryClaimDeadlineNotificationAsync(miss, T0.AddMinutes(1), None)));

        Assert.Equal(1, claims.Count(c => c));
        var listed = Assert.Single(await Store.ListDeadlineMissesAsync("shop", "daily", miss.RunDate, miss.RunDate, None));
        Assert.Equal((T0.AddHours(2), T0.AddMinutes(1)), (listed.MetAt, listed.NotifiedAt));
    }
}
