using Millrace.Engine.Dates;
using Millrace.Storage;

namespace Millrace.Tests.Storage;

/// <summary>A target's runs by run date (<see cref="IRunStore.ListRunDatesAsync"/>) and the per-date status built on them.</summary>
public abstract partial class MetadataStoreContract
{
    static readonly DateOnly D1 = new(2026, 3, 1);

    async Task SeedRunDatesAsync()
    {
        async Task Add(string id, int day, RunStatus status, int minute, string target = "daily", string project = "shop") =>
            await Store.CreateRunAsync(NewRun(id, target, T0.AddMinutes(minute), status, projectId: project, runDate: D1.AddDays(day)) with
            {
                EndedAt = status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Skipped ? T0.AddMinutes(minute + 1) : null,
                Error = status == RunStatus.Failed ? "boom" : null,
            }, None);
        await Add("r-succeeded", 0, RunStatus.Succeeded, 0);
        await Add("r-failed-first", 1, RunStatus.Failed, 1);
        await Add("r-failed-again", 1, RunStatus.Failed, 2);
        await Add("r-fixed", 2, RunStatus.Failed, 3);
        await Add("r-fixed-then", 2, RunStatus.Succeeded, 4);
        await Add("r-queued", 3, RunStatus.Queued, 5);
        // day 4: no run at all
        await Add("r-ok-5", 5, RunStatus.Succeeded, 6);
        await Add("r-skipped-after", 5, RunStatus.Skipped, 7);
        await Add("r-only-skipped", 6, RunStatus.Skipped, 8);
        // Other targets, projects and dates out of the range are not counted.
        await Add("r-other-target", 4, RunStatus.Succeeded, 9, target: "weekly");
        await Add("r-other-project", 4, RunStatus.Succeeded, 10, project: "other");
        await Add("r-before", -1, RunStatus.Succeeded, 11);
        await Add("r-after", 7, RunStatus.Failed, 12);
    }

    [SkippableFact]
    public async Task Run_dates_are_one_summary_per_date_with_counts_and_the_newest_run_not_skipped()
    {
        await SeedRunDatesAsync();
        var summaries = await Store.ListRunDatesAsync("shop", "daily", D1, D1.AddDays(6), None);

        Assert.Equal([D1, D1.AddDays(1), D1.AddDays(2), D1.AddDays(3), D1.AddDays(5), D1.AddDays(6)], summaries.Select(s => s.Date));
        var byDate = summaries.ToDictionary(s => s.Date);
        Assert.Equal("r-failed-again", byDate[D1.AddDays(1)].Latest.Id);
        Assert.Equal(2, byDate[D1.AddDays(1)].Count(RunStatus.Failed));
        Assert.Equal("boom", byDate[D1.AddDays(1)].Latest.Error);
        Assert.Equal("r-fixed-then", byDate[D1.AddDays(2)].Latest.Id);
        Assert.Equal((1, 1, 2), (byDate[D1.AddDays(2)].Count(RunStatus.Failed), byDate[D1.AddDays(2)].Count(RunStatus.Succeeded), byDate[D1.AddDays(2)].Total));
        Assert.Equal("r-ok-5", byDate[D1.AddDays(5)].Latest.Id); // a later skipped run does not speak for the date
        Assert.Equal("r-only-skipped", byDate[D1.AddDays(6)].Latest.Id);
        Assert.Equal(T0.AddMinutes(6), byDate[D1.AddDays(5)].Latest.CreatedAt);
        Assert.Empty(await Store.ListRunDatesAsync("shop", "nobody", D1, D1.AddDays(6), None));
    }

    [SkippableFact]
    public async Task Per_date_status_over_a_range_has_every_date_succeeded_failed_queued_skipped_or_missing()
    {
        await SeedRunDatesAsync();
        var dates = await new PipelineDates(Store, "shop").ListAsync("daily", D1, D1.AddDays(6), None);

        Assert.Equal(
            [DateStatus.Succeeded, DateStatus.Failed, DateStatus.Succeeded, DateStatus.Queued, DateStatus.Missing, DateStatus.Succeeded, DateStatus.Skipped],
            dates.Select(d => d.Status));
        Assert.Equal(Enumerable.Range(0, 7).Select(i => D1.AddDays(i)), dates.Select(d => d.Date));
        Assert.Null(dates[4].LatestRun);
        Assert.Equal(0, dates[4].RunCount);
        Assert.Equal(2, dates[1].RunCount);
    }
}
