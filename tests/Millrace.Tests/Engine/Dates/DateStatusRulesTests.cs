using Millrace.Engine.Dates;
using Millrace.Storage;

namespace Millrace.Tests.Engine.Dates;

/// <summary>The precedence between a date's facts, as one table: facts in, status out.</summary>
public sealed class DateStatusRulesTests
{
    static readonly DateOnly Day = new(2026, 3, 1);
    static readonly DateTimeOffset T0 = new(2026, 3, 1, 7, 0, 0, TimeSpan.Zero);

    static RunDateSummary Runs(RunStatus latest, params (RunStatus Status, int Count)[] counts)
    {
        var run = new Run
        {
            Id = "run-1", ProjectId = "shop", Target = "daily", TargetKind = "pipeline", Trigger = TriggerKind.Schedule, Status = latest,
            Parameters = [], RunDate = Day, DefinitionsHash = "h", CreatedAt = T0,
        };
        var all = counts.Length == 0 ? [(latest, 1)] : counts;
        return new RunDateSummary(Day, all.ToDictionary(c => c.Status, c => c.Count), run);
    }

    static readonly DateFacts Nothing = DateFacts.None;
    static readonly string[] Feeds = ["raw/events/dt=2026-03-01/*.csv"];

    public static TheoryData<string, DateFacts, DateStatus> Table => new()
    {
        { "no run, no fact", Nothing, DateStatus.Missing },
        { "feeds missing", Nothing with { MissingFeeds = Feeds }, DateStatus.Waiting },
        { "files settling", Nothing with { Settling = true }, DateStatus.Waiting },
        { "up to date", Nothing with { Runs = Runs(RunStatus.UpToDate) }, DateStatus.UpToDate },
        { "only skipped runs", Nothing with { Runs = Runs(RunStatus.Skipped) }, DateStatus.Skipped },
        { "skipped and feeds missing", Nothing with { Runs = Runs(RunStatus.Skipped), MissingFeeds = Feeds }, DateStatus.Waiting },
        { "queued", Nothing with { Runs = Runs(RunStatus.Queued) }, DateStatus.Queued },
        { "running", Nothing with { Runs = Runs(RunStatus.Running) }, DateStatus.Running },
        { "running beside a newer queued run", Nothing with { Runs = Runs(RunStatus.Queued, (RunStatus.Queued, 1), (RunStatus.Running, 1)) }, DateStatus.Running },
        { "succeeded", Nothing with { Runs = Runs(RunStatus.Succeeded) }, DateStatus.Succeeded },
        { "failed", Nothing with { Runs = Runs(RunStatus.Failed) }, DateStatus.Failed },
        { "cancelled", Nothing with { Runs = Runs(RunStatus.Cancelled) }, DateStatus.Cancelled },
        { "failed after an earlier success", Nothing with { Runs = Runs(RunStatus.Failed, (RunStatus.Succeeded, 1), (RunStatus.Failed, 1)) }, DateStatus.Failed },
        { "succeeded after a failure", Nothing with { Runs = Runs(RunStatus.Succeeded, (RunStatus.Failed, 1), (RunStatus.Succeeded, 1)) }, DateStatus.Succeeded },
        { "stale over succeeded", Nothing with { Runs = Runs(RunStatus.Succeeded), StaleReason = "late file" }, DateStatus.Stale },
        { "stale over a failed rerun", Nothing with { Runs = Runs(RunStatus.Failed), StaleReason = "late file" }, DateStatus.Stale },
        { "a running rerun over stale", Nothing with { Runs = Runs(RunStatus.Running), StaleReason = "late file" }, DateStatus.Running },
        { "queued over a missed deadline", Nothing with { Runs = Runs(RunStatus.Queued), DeadlineMissedAt = T0 }, DateStatus.Queued },
        { "a later success over a missed deadline", Nothing with { Runs = Runs(RunStatus.Succeeded), DeadlineMissedAt = T0 }, DateStatus.Succeeded },
        { "failed over a missed deadline", Nothing with { Runs = Runs(RunStatus.Failed), DeadlineMissedAt = T0 }, DateStatus.Failed },
        { "deadline missed with no run", Nothing with { DeadlineMissedAt = T0 }, DateStatus.DeadlineMissed },
        { "deadline missed over waiting", Nothing with { DeadlineMissedAt = T0, MissingFeeds = Feeds }, DateStatus.DeadlineMissed },
        { "deadline missed over skipped", Nothing with { Runs = Runs(RunStatus.Skipped), DeadlineMissedAt = T0 }, DateStatus.DeadlineMissed },
        { "succeeded with feeds still missing (a manual run)", Nothing with { Runs = Runs(RunStatus.Succeeded), MissingFeeds = Feeds }, DateStatus.Succeeded },
        { "a note alone changes nothing", Nothing with { Note = "hello" }, DateStatus.Missing },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void A_dates_facts_give_one_status_by_the_precedence_table(string facts, DateFacts given, DateStatus expected)
    {
        Assert.True(expected == DateStatusRules.StatusOf(given), $"{facts}: expected {expected}, got {DateStatusRules.StatusOf(given)}");
    }

    [Fact]
    public void Facts_that_do_not_win_stay_on_the_date_beside_its_status()
    {
        var date = PipelineDate.From(Day, Nothing with { Runs = Runs(RunStatus.Succeeded), DeadlineMissedAt = T0, MissingFeeds = Feeds });
        Assert.Equal(DateStatus.Succeeded, date.Status);
        Assert.Equal(T0, date.DeadlineMissedAt);
        Assert.Equal(Feeds, date.MissingFeeds);
    }

    [Theory]
    [InlineData(DateStatus.Missing, "missing")]
    [InlineData(DateStatus.UpToDate, "up_to_date")]
    [InlineData(DateStatus.DeadlineMissed, "deadline_missed")]
    public void Status_names_are_lower_case_words_joined_by_underscores_and_parse_back(DateStatus status, string name)
    {
        Assert.Equal(name, DateStatusNames.Name(status));
        Assert.True(DateStatusNames.TryParse(name.ToUpperInvariant(), out var parsed));
        Assert.Equal(status, parsed);
    }

    [Fact]
    public void A_status_list_refuses_unknown_values_and_those_outside_the_choices_listing_the_choices()
    {
        Assert.Equal([DateStatus.Missing, DateStatus.Failed, DateStatus.Stale],
            DateStatusNames.ParseList("missing, failed,stale", DateStatusNames.Backfillable).Order());
        var unknown = Assert.Throws<FormatException>(() => DateStatusNames.ParseList("missing,brokn", DateStatusNames.Backfillable));
        Assert.Contains("unknown date status 'brokn'; choose from missing, waiting, succeeded, failed", unknown.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => DateStatusNames.ParseList("running", DateStatusNames.Backfillable));
        Assert.Throws<FormatException>(() => DateStatusNames.ParseList("", DateStatusNames.Backfillable));
    }

    [Theory]
    [InlineData("2026-03-02", "2026-03-01", "ends (2026-03-01) before it starts (2026-03-02)")]
    [InlineData("2016-01-01", "2026-01-08", "a range covers at most 3660 dates; 2016-01-01 to 2026-01-08 is 3661")]
    public void A_range_reversed_or_longer_than_3660_dates_is_refused(string from, string to, string problem)
    {
        var message = PipelineDates.RangeProblem(DateOnly.Parse(from), DateOnly.Parse(to));
        Assert.NotNull(message);
        Assert.Contains(problem, message, StringComparison.Ordinal);
        Assert.Null(PipelineDates.RangeProblem(new DateOnly(2016, 1, 1), new DateOnly(2016, 1, 1).AddDays(PipelineDates.MaxDates - 1)));
    }
}
