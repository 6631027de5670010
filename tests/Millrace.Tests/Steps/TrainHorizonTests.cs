using System.Globalization;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

/// <summary>
/// The train step's <c>horizon</c>: rows whose label cannot be known by run.date (their time is later than
/// run.date - horizon) are left out and counted; a run.date far past the data fails naming the dates present; and
/// the horizon's own definition errors are located.
/// </summary>
public sealed class TrainHorizonTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/customers.csv", LearningData.Customers());
        _project.TrainWorkflow("train", "raw/customers.csv", """
            model: churn
            task: binary
            label: churned
            features: [tickets, region, minutes]
            options: { iterations: 20 }
            validation: { method: time, column: signup, fraction: 0.2 }
            horizon: 30d
            """);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    /// <summary>The signup dates of the fixture, read from its CSV.</summary>
    static List<DateOnly> Signups() => LearningData.Customers().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
        .Select(line => DateOnly.ParseExact(line.Split(',')[6], "yyyy-MM-dd", CultureInfo.InvariantCulture)).ToList();

    [Fact]
    public async Task Rows_younger_than_the_horizon_are_left_out_and_counted()
    {
        var run = await _project.RunSucceededAsync("train", ("run.date", "2023-12-15"));

        // Known by the end of 2023-12-15 with a 30-day horizon: signups before 2023-11-16.
        var signups = Signups();
        var young = signups.Count(s => s >= new DateOnly(2023, 11, 16));
        Assert.InRange(young, 20, 80);
        var details = await _project.StepDetailsAsync(run.Id, "fit");
        var horizon = details.GetProperty("horizon");
        Assert.Equal(young, horizon.GetProperty("dropped_rows").GetInt64());
        Assert.Equal("2023-11-16 00:00:00", horizon.GetProperty("cutoff").GetString());
        Assert.Equal("30d", horizon.GetProperty("horizon").GetString());
        Assert.Equal(signups.Count - young, details.GetProperty("train_rows").GetInt64() + details.GetProperty("holdout_rows").GetInt64());
        var model = await _project.ModelAsync("churn", 1);
        Assert.Equal(signups.Count - young, model.TrainRows + model.HoldoutRows);
        var logs = await (await _project.StoreAsync()).GetLogsAsync(run.Id, CancellationToken.None);
        Assert.Contains(logs, l => l.Message == $"left out {young} row(s) whose signup is 2023-11-16 00:00:00 or later (or NULL): their label is not known by run.date 2023-12-15 with the horizon 30d");
        // The time holdout is the newest fifth of the rows kept, not of all rows.
        Assert.InRange(model.HoldoutRows, (signups.Count - young) * 0.18, (signups.Count - young) * 0.25);
    }

    [Fact]
    public async Task A_run_date_far_past_the_data_fails_naming_the_dates_present()
    {
        var signups = Signups();
        var (oldest, newest) = (signups.Min(), signups.Max());
        var latest = newest.AddDays(59);

        var failed = await _project.RunAsync("train", ("run.date", latest.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        var ok = await _project.RunAsync("train", ("run.date", latest.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));

        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Contains($"is past the data: the labelled rows' signup runs from {oldest:yyyy-MM-dd} 00:00:00 to {newest:yyyy-MM-dd} 00:00:00", failed.Error, StringComparison.Ordinal);
        Assert.Contains($"(at most {latest:yyyy-MM-dd})", failed.Error, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Succeeded, ok.Status);
        Assert.Single(await _project.ModelVersionsAsync("churn"));
    }

    [Theory]
    [InlineData("horizon: 30d", "horizon needs the time a row's horizon counts from: set horizon_column")]
    [InlineData("horizon: soon\nhorizon_column: signup", "field 'horizon' must be a duration")]
    [InlineData("horizon: 0d\nhorizon_column: signup", "field 'horizon' must be longer than 0s")]
    [InlineData("horizon_column: signup", "horizon_column goes with horizon")]
    public async Task A_bad_horizon_is_a_located_definition_error(string fields, string expected)
    {
        await using var project = new TestProject();
        project.TrainWorkflow("train", "raw/customers.csv", $"""
            model: churn
            task: binary
            label: churned
            {fields}
            """);

        var errors = project.Check().Select(e => e.ToString()).ToList();

        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal) && e.Contains("train.yaml:", StringComparison.Ordinal));
    }
}
