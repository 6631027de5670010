using System.Globalization;
using System.Text;
using Millrace.Storage;
using Millrace.Tests.TestSupport;
using static Millrace.Tests.Quality.QualityProject;

namespace Millrace.Tests.Quality;

/// <summary>
/// The drift step with a second input as the reference: identical data has a PSI of 0, a shifted feature is a
/// drift anomaly (and fails the run under on_drift: fail), and every feature's PSI is stored per run.
/// </summary>
public sealed class DriftStepTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/reference.csv", Customers(amountShift: 0, plans: ["basic", "pro", "premium"]));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    /// <summary>200 rows: <c>id</c>, <c>amount</c> = 0..99 twice (plus a shift), <c>plan</c> cycling through <paramref name="plans"/>.</summary>
    static string Customers(int amountShift, string[] plans)
    {
        var csv = new StringBuilder("id,amount,plan\n");
        for (var i = 0; i < 200; i++) csv.Append(CultureInfo.InvariantCulture, $"{i},{i % 100 + amountShift},{plans[i % plans.Length]}\n");
        return csv.ToString();
    }

    void Workflow(string driftFields, string batch = "raw/batch.csv") => _project.Workflow("monitor", $"""
        name: monitor
        steps:
          - id: batch
            type: read
            path: {batch}
          - id: reference
            type: read
            path: raw/reference.csv
          - id: drift
            type: drift
            inputs: [batch, reference]
        {LearningProject.Indent(driftFields, "    ")}
          - id: out
            type: write
            input: drift
            path: out/drift.parquet
        """);

    Dictionary<string, double> Psi(IReadOnlyList<DriftResult> results) => results.ToDictionary(r => r.Feature, r => r.Psi);

    [Fact]
    public async Task Identical_data_has_a_psi_of_zero_for_every_shared_feature_and_no_anomaly()
    {
        _project.LakeFile("raw/batch.csv", Customers(0, ["basic", "pro", "premium"]));
        Workflow("threshold: 0.3");

        var run = await _project.RunOkAsync("monitor");

        var results = await _project.DriftResultsAsync(run.Id);
        Assert.Equal(["amount", "id", "plan"], results.Select(r => r.Feature).Order(StringComparer.Ordinal));
        Assert.All(results, r => Assert.Equal(0, r.Psi, 9));
        Assert.All(results, r => Assert.Equal((run.Id, "monitor", "drift", "reference"), (r.RunId, r.Workflow, r.StepId, r.Reference)));
        Assert.Empty(await _project.AnomaliesOfAsync(run.Id));
        Assert.Equal(3L, Long(_project.QueryLake("SELECT count(*) FROM {file} WHERE NOT drifted AND psi = 0 AND threshold = 0.3", "out/drift.parquet")[0][0]));
    }

    [Fact]
    public async Task A_shifted_numeric_feature_drifts_and_is_a_drift_anomaly()
    {
        // amount 50..149 against a reference of 0..99: half the batch lands above the reference's top decile.
        _project.LakeFile("raw/batch.csv", Customers(50, ["basic", "pro", "premium"]));
        Workflow("columns: [amount, plan]");

        var run = await _project.RunOkAsync("monitor");

        var psi = Psi(await _project.DriftResultsAsync(run.Id));
        Assert.Equal(["amount", "plan"], psi.Keys.Order(StringComparer.Ordinal));
        Assert.True(psi["amount"] > 0.3, $"amount PSI {psi["amount"]}");
        // Reference deciles of 0..99 (twice): 9.9, 19.8, …, 89.1, each bin 0.1. The batch has nothing in the five bins
        // up to 49.5, 0.1 in each of the four from ≤ 59.4 to ≤ 89.1, and 0.6 above 89.1:
        // 5 · (0.0001 − 0.1)·ln(0.0001/0.1) + 4 · 0 + (0.6 − 0.1)·ln(6) = 5 · 0.690085 + 0.895880 = 4.346303
        Assert.Equal(4.346303, psi["amount"], 6);
        Assert.Equal(0, psi["plan"], 9);

        var anomaly = await _project.SingleAnomalyAsync(run.Id, "drift");
        Assert.Equal((AnomalySeverity.Warning, "warn", "drift"), (anomaly.Severity, anomaly.Policy, anomaly.StepId));
        Assert.StartsWith("feature 'amount' drifted from reference: PSI 4.3", anomaly.Message);
        Assert.EndsWith("> 0.3", anomaly.Message);
        var details = DetailsOf(anomaly);
        Assert.Equal(("amount", 0.3, "reference"), (details.GetProperty("feature").GetString(), details.GetProperty("threshold").GetDouble(), details.GetProperty("reference").GetString()));
        Assert.Equal(psi["amount"], details.GetProperty("psi").GetDouble());

        var rows = _project.QueryLake("SELECT feature, drifted FROM {file} ORDER BY feature", "out/drift.parquet");
        Assert.Equal([("amount", true), ("plan", false)], rows.Select(r => ((string)r[0]!, (bool)r[1]!)));
        var step = await _project.StepDetailsAsync(run.Id, "drift");
        Assert.Equal(["amount"], step.GetProperty("drifted").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(psi["amount"], step.GetProperty("max_psi").GetDouble());
    }

    [Fact]
    public async Task A_categorical_feature_with_new_categories_drifts_through_the_other_bin()
    {
        _project.LakeFile("raw/batch.csv", Customers(0, ["basic", "enterprise", "trial", "premium"]));
        Workflow("columns: [plan]");

        var run = await _project.RunOkAsync("monitor");

        // Reference: basic 67, pro 67, premium 66 of 200 (ties by name) → bins NULL, basic, pro, premium, other.
        // Batch: basic 0.25, pro 0 (floored), premium 0.25, other (enterprise, trial) 0.5; NULL 0 in both.
        var expected = (0.25 - 67 / 200.0) * Math.Log(0.25 / (67 / 200.0))
                     + (0.0001 - 67 / 200.0) * Math.Log(0.0001 / (67 / 200.0))
                     + (0.25 - 66 / 200.0) * Math.Log(0.25 / (66 / 200.0))
                     + (0.5 - 0.0001) * Math.Log(0.5 / 0.0001);
        var psi = Assert.Single(await _project.DriftResultsAsync(run.Id));
        Assert.Equal(7.023120, expected, 6);
        Assert.Equal("plan", psi.Feature);
        Assert.Equal(7.023120, psi.Psi, 6);
        Assert.Equal("plan", DetailsOf(await _project.SingleAnomalyAsync(run.Id, "drift")).GetProperty("feature").GetString());
    }

    [Fact]
    public async Task A_higher_threshold_tolerates_the_same_shift()
    {
        // amount 10..109: bin ≤ 9.9 empties, the top bin doubles: (0.0001 − 0.1)·ln(0.001) + (0.2 − 0.1)·ln(2) = 0.759399
        _project.LakeFile("raw/batch.csv", Customers(10, ["basic", "pro", "premium"]));
        Workflow("columns: [amount]\nthreshold: 1");
        var tolerant = await _project.RunOkAsync("monitor");
        Workflow("columns: [amount]");
        var strict = await _project.RunOkAsync("monitor");

        Assert.Equal(0.759399, Assert.Single(await _project.DriftResultsAsync(tolerant.Id)).Psi, 6);
        Assert.Empty(await _project.AnomaliesOfAsync(tolerant.Id));
        Assert.EndsWith("PSI 0.759 > 0.3", (await _project.SingleAnomalyAsync(strict.Id, "drift")).Message);
    }

    [Fact]
    public async Task On_drift_fail_fails_the_run_and_still_records_the_results_and_an_error_anomaly()
    {
        _project.LakeFile("raw/batch.csv", Customers(50, ["basic", "pro", "premium"]));
        Workflow("columns: [amount, plan]\non_drift: fail");

        var run = await _project.RunAsync("monitor");

        Assert.Equal(RunStatus.Failed, run.Status);
        var step = await _project.StepRunAsync(run.Id, "drift");
        Assert.Matches(@"^1 feature\(s\) drifted from reference: amount \(PSI 4\.\d{3}\)$", step.Error);
        var anomaly = await _project.SingleAnomalyAsync(run.Id, "drift");
        Assert.Equal((AnomalySeverity.Error, "fail"), (anomaly.Severity, anomaly.Policy));
        Assert.Equal(2, (await _project.DriftResultsAsync(run.Id)).Count);
        Assert.False(File.Exists(_project.LakePath("out/drift.parquet")));
    }

    [Fact]
    public async Task On_drift_fail_passes_when_nothing_drifts()
    {
        _project.LakeFile("raw/batch.csv", Customers(0, ["basic", "pro", "premium"]));
        Workflow("on_drift: fail");

        await _project.RunOkAsync("monitor");
    }

    [Fact]
    public async Task Where_filters_the_reference_before_profiling_it()
    {
        // The batch holds only basic customers; against all plans that is a drift, against the basic ones it is not.
        _project.LakeFile("raw/batch.csv", Customers(0, ["basic"]));
        Workflow("columns: [plan]\nwhere: plan = $plan");
        _project.Workflow("monitor", File.ReadAllText(Path.Combine(_project.Directory, "workflows/monitor.yaml")).Replace("name: monitor\n", "name: monitor\nparameters: { plan: { default: basic } }\n", StringComparison.Ordinal));

        var run = await _project.RunOkAsync("monitor");

        var result = Assert.Single(await _project.DriftResultsAsync(run.Id));
        Assert.Equal(0, result.Psi, 9);
        Assert.Equal("reference where plan = $plan", result.Reference);
    }

    [Fact]
    public async Task Results_are_stored_per_run_and_per_feature()
    {
        _project.LakeFile("raw/batch.csv", Customers(0, ["basic", "pro", "premium"]));
        _project.LakeFile("raw/shifted.csv", Customers(50, ["basic", "pro", "premium"]));
        Workflow("columns: [amount, plan]");
        var first = await _project.RunOkAsync("monitor");
        Workflow("columns: [amount, plan]", batch: "raw/shifted.csv");
        var second = await _project.RunOkAsync("monitor");

        var before = Psi(await _project.DriftResultsAsync(first.Id));
        var after = Psi(await _project.DriftResultsAsync(second.Id));

        Assert.Equal((0.0, 0.0), (Math.Round(before["amount"], 9), Math.Round(before["plan"], 9)));
        Assert.True(after["amount"] > 4);
        Assert.Equal(0, after["plan"], 9);
        // Within a run, the highest PSI comes first.
        Assert.Equal(["amount", "plan"], (await _project.DriftResultsAsync(second.Id)).Select(r => r.Feature));
    }

    [Fact]
    public async Task Only_the_columns_both_inputs_share_are_compared()
    {
        _project.LakeFile("raw/batch.csv", "id,amount\n1,2\n");
        Workflow("columns: [amount, plan]");

        var run = await _project.RunAsync("monitor");

        // The reference is the second input: only the columns both share are compared, so plan is simply not compared.
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(["amount"], (await _project.DriftResultsAsync(run.Id)).Select(r => r.Feature));
    }

    [Fact]
    public void A_drift_step_needs_a_reference_and_valid_options()
    {
        _project.Workflow("monitor", """
            name: monitor
            steps:
              - id: batch
                type: read
                path: raw/batch.csv
              - id: no_reference
                type: drift
                input: batch
              - id: bad_options
                type: drift
                inputs: [batch, batch]
                threshold: -1
                on_drift: explode
            """);

        var errors = _project.Check();

        Assert.Equal(6, DefinitionAssert.Single(errors, "a drift step needs a reference").Location.Line);
        Assert.Equal(12, DefinitionAssert.Single(errors, "threshold must be positive").Location.Line);
        var onDrift = DefinitionAssert.Single(errors, "on_drift must be warn or fail, got 'explode'");
        Assert.Equal((13, 15), (onDrift.Location.Line, onDrift.Location.Column));
    }
}
