using Millrace.Definitions;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Definitions;

/// <summary>
/// Every duration is parsed by <see cref="Durations"/> within the bounds of its use: no overflow, NaN, infinity,
/// sign or exponent, and a value the engine could not act on is a located error at validate time, not a crash or a
/// run that fails later.
/// </summary>
[Trait("Category", "Security")]
public sealed class DurationBoundsTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/a.csv", "x,day\n1,2026-01-01\n").Workflow("ingest", """
            name: ingest
            steps:
              - id: a
                type: read
                path: raw/a.csv
            """);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("1.5h", 5400)]
    [InlineData("7d", 604800)]
    [InlineData("168h", 604800)]
    [InlineData(" 5m ", 300)]
    [InlineData("0.000001s", 0.000001)]
    public void Durations_within_the_bounds_are_read(string text, double seconds)
    {
        Assert.True(Durations.TryParse(text, Durations.PipelineTimeout, out var value, out var problem), problem);
        Assert.Equal(TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond)), value);
    }

    [Theory]
    [InlineData("99999999d", "must be at most 7d, got '99999999d'")]
    [InlineData("9999999999999999999999999999d", "must be at most 7d")]
    [InlineData("7.0000001d", "must be at most 7d")]
    [InlineData("604801s", "must be at most 7d")]
    [InlineData("60d", "must be at most 7d")]
    [InlineData("NaNd", "must be a duration such as 30s")]
    [InlineData("Infinityd", "must be a duration such as 30s")]
    [InlineData("∞d", "must be a duration such as 30s")]
    [InlineData("-1d", "must be a duration such as 30s")]
    [InlineData("+1d", "must be a duration such as 30s")]
    [InlineData("1e3s", "must be a duration such as 30s")]
    [InlineData("1,5h", "must be a duration such as 30s")]
    [InlineData("1.h", "must be a duration such as 30s")]
    [InlineData(".5h", "must be a duration such as 30s")]
    [InlineData("0x10s", "must be a duration such as 30s")]
    [InlineData("１d", "must be a duration such as 30s")]
    [InlineData("10", "must be a duration such as 30s")]
    [InlineData("10ms", "must be a duration such as 30s")]
    [InlineData("1h30m", "must be a duration such as 30s")]
    [InlineData("", "must be a duration such as 30s")]
    [InlineData("0s", "must be longer than 0s")]
    [InlineData("0.00000001s", "must be longer than 0s")]
    [InlineData("0.0000000001s", "must be a duration such as 30s")]
    public void Durations_outside_the_bounds_or_of_another_shape_are_refused(string text, string expected)
    {
        Assert.False(Durations.TryParse(text, Durations.PipelineTimeout, out _, out var problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Zero_is_accepted_only_where_the_use_allows_it()
    {
        Assert.True(Durations.TryParse("0s", Durations.RetryBackoff, out var zero, out _));
        Assert.Equal(TimeSpan.Zero, zero);
        Assert.False(Durations.TryParse("0s", Durations.TokenLifetime, out _, out _));
    }

    [Fact]
    public void Every_bound_fits_a_timer_and_a_date_ten_years_ahead()
    {
        foreach (var bounds in new[] { Durations.PipelineTimeout, Durations.RetryBackoff, Durations.ShutdownTimeout, Durations.Heartbeat, Durations.NodeTimeout })
        {
            using var timer = new CancellationTokenSource(bounds.Max);
            var delay = Task.Delay(bounds.Max, timer.Token);
            timer.Cancel();
            Assert.True(delay.IsCanceled);
        }
        foreach (var bounds in new[] { Durations.FreshnessMaxAge, Durations.TokenLifetime })
            Assert.True(DateTimeOffset.UtcNow.AddYears(10) + bounds.Max > DateTimeOffset.UtcNow);
    }

    [Theory]
    [InlineData("timeout: 99999999d\n", "field 'timeout' must be at most 7d, got '99999999d'", 3, 10)]
    [InlineData("timeout: 60d\n", "field 'timeout' must be at most 7d, got '60d'", 3, 10)]
    [InlineData("timeout: NaNd\n", "field 'timeout' must be a duration", 3, 10)]
    [InlineData("timeout: -5m\n", "field 'timeout' must be a duration", 3, 10)]
    [InlineData("retries: { attempts: 1, backoff: 99999999d }\n", "field 'backoff' must be at most 1d", 3, 34)]
    [InlineData("retries: { attempts: 1, backoff: Infinitys }\n", "field 'backoff' must be a duration", 3, 34)]
    public void Pipeline_durations_out_of_bounds_are_located_errors(string yaml, string expected, int line, int column)
    {
        _project.Pipeline("nightly", "name: nightly\nworkflows: [ingest]\n" + yaml);

        var error = DefinitionAssert.Single(_project.Check(), expected);

        Assert.Equal(new SourceLocation("pipelines/nightly.yaml", line, column), error.Location);
    }

    [Theory]
    [InlineData("99999999d", "field 'max_age' must be at most 3650d")]
    [InlineData("NaNd", "field 'max_age' must be a duration")]
    [InlineData("0s", "field 'max_age' must be longer than 0s")]
    public void A_freshness_max_age_out_of_bounds_is_a_located_error_of_its_step(string maxAge, string expected)
    {
        _project.Workflow("fresh", $$"""
            name: fresh
            steps:
              - id: a
                type: read
                path: raw/a.csv
              - id: checked
                type: check
                input: a
                expect:
                  - freshness: { column: day, max_age: {{maxAge}} }
            """);

        var errors = _project.Check();

        var error = DefinitionAssert.Single(errors, expected);
        Assert.Equal(new SourceLocation("workflows/fresh.yaml", 10, 44), error.Location);
        Assert.Equal("checked", error.StepId);
        Assert.DoesNotContain(errors, e => e.Message.Contains("needs max_age", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_run_with_the_longest_timeout_succeeds()
    {
        _project.Pipeline("patient", "name: patient\nworkflows: [ingest]\ntimeout: 7d\n");

        var run = await _project.RunAsync("patient");

        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
    }
}
