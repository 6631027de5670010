using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Parameters;

/// <summary>
/// The reproductions of the trust review, run as a runner would send them: through a real run of a sql step, a check
/// rule and a drift filter. A value must never read a host file, write outside the lake or change what is selected.
/// </summary>
[Trait("Category", "Security")]
public sealed class SqlInjectionTests : IAsyncLifetime
{
    readonly TestProject _project = new();
    const string Hostname = "*/ WHERE false UNION ALL SELECT 0, content, 0 FROM read_text($$/etc/hostname$$) --";

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/sales/day1.csv", "id,region,amount\n1,north,10\n2,south,20\n3,east,30\n");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    void Workflow(string sqlStep) => _project.Workflow("report", $$"""
        name: report
        parameters:
          region: { type: string, default: north }
        steps:
          - id: sales
            type: read
            path: raw/sales/*.csv
          - id: picked
            type: sql
            inputs: [sales]
            sql: {{sqlStep}}
          - id: save
            type: write
            input: picked
            dataset: picked
        """);

    // The rows the sql step selected.
    async Task<long?> RunAsync(string region)
    {
        var run = await _project.RunAsync("report", ("region", region));
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        return (await _project.StepRunAsync(run.Id, "picked")).Rows;
    }

    [Fact]
    public async Task A_value_cannot_close_a_nested_comment_and_read_a_host_file()
    {
        Workflow("\"SELECT * FROM sales /* off: /* note */ AND region = $region */ WHERE region = 'none'\"");
        Assert.Equal(0, await RunAsync(Hostname));
    }

    [Fact]
    public async Task A_value_cannot_leave_a_comment_ended_by_a_bare_CR()
    {
        Workflow("\"SELECT * FROM sales -- by $region\\r WHERE region = 'none'\"");
        Assert.Equal(0, await RunAsync("x UNION ALL SELECT 0, content, 0 FROM read_text('/etc/hostname') --"));
    }

    [Fact]
    public async Task A_value_holding_the_dollar_delimiter_is_refused_and_COPY_never_runs()
    {
        var outside = Path.Combine(Path.GetTempPath(), $"millrace-injected-{Guid.NewGuid():n}.csv");
        Workflow("\"SELECT * FROM sales WHERE region = $$$$$region$$$$\"");
        var run = await _project.RunAsync("report", ("region", $"$$; COPY (SELECT 1) TO '{outside}'; SELECT * FROM sales WHERE $$"));
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("stands in a $$…$$ string, and its value holds $$", run.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(outside));
        Assert.Equal(0, await RunAsync("x' OR 1=1; COPY (SELECT 1) TO '/tmp/x.csv'; --"));
    }

    [Fact]
    public async Task A_harmless_value_still_selects_its_rows()
    {
        Workflow("\"SELECT * FROM sales /* by region */ WHERE region = $region\"");
        Assert.Equal(1, await RunAsync("north"));
    }

    [Fact]
    public async Task A_check_rule_takes_the_value_as_a_value()
    {
        _project.Workflow("checked", """
            name: checked
            parameters:
              region: { type: string, default: north }
            steps:
              - id: sales
                type: read
                path: raw/sales/*.csv
              - id: rules
                type: check
                input: sales
                on_failure: fail
                expect:
                  - sql: "region <> $region /* $region */"
            """);
        var run = await _project.RunAsync("checked", ("region", "x' OR true) OR (true --"));
        Assert.Equal(RunStatus.Succeeded, run.Status);
        var failing = await _project.RunAsync("checked", ("region", "north"));
        Assert.Equal(RunStatus.Failed, failing.Status);
    }

    [Theory]
    [InlineData("\"SELECT CAST(amount AS $region) FROM sales\"", "stands where DuckDB reads SQL syntax")]
    [InlineData("\"SELECT $region; SELECT 1\"", "exactly one statement")]
    [InlineData("\"SELECT * FROM sales WHERE region = $region AND\"", "does not parse")]
    public void Validate_reports_a_reference_DuckDB_cannot_place_at_its_line(string sql, string reason)
    {
        Workflow(sql);
        var error = Assert.Single(_project.Check());
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Equal(11, error.Location.Line);
        Assert.Equal("picked", error.StepId);
    }

    [Fact]
    public void Validate_accepts_references_in_every_placeable_context()
    {
        Workflow("\"SELECT *, 'dt=$region' AS d /* $region */ FROM sales WHERE region = $region AND run_date <= ${run.date}\"");
        Assert.Empty(_project.Check());
    }
}
