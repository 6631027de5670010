using System.Text.Json;
using Millrace.Engine;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Quality;

/// <summary>Helpers over <see cref="TestProject"/> for the data-quality tests: check workflows, anomalies, quarantine files, drift results.</summary>
static class QualityProject
{
    static readonly CancellationToken None = CancellationToken.None;

    /// <summary>
    /// Workflow <c>ingest</c>: read <c>raw/data.csv</c> (written from <paramref name="csv"/>), a check step <c>checked</c>
    /// with <paramref name="expect"/> (YAML list items, one per line) and <paramref name="policy"/>, and write what passes
    /// to <c>out/passed.parquet</c>. <paramref name="extra"/> adds check-step fields; <paramref name="after"/> adds steps.
    /// </summary>
    public static TestProject CheckWorkflow(this TestProject project, string csv, string expect, string policy = "warn", string extra = "", string after = "", string schema = "")
    {
        if (csv.Length > 0) project.LakeFile("raw/data.csv", csv);
        project.Workflow("ingest", $"""
            name: ingest
            steps:
              - id: rows
                type: read
                path: raw/data.csv
            {(schema.Length == 0 ? "" : $"    schema: {schema}")}
              - id: checked
                type: check
                input: rows
                expect:
            {LearningProject.Indent(expect, "      - ")}
                on_failure: {policy}
            {(extra.Length == 0 ? "" : LearningProject.Indent(extra, "    "))}
              - id: out
                type: write
                input: checked
                path: out/passed.parquet
            {(after.Length == 0 ? "" : LearningProject.Indent(after, "  "))}
            """);
        return project;
    }

    public static async Task<Run> RunOkAsync(this TestProject project, string target = "ingest", params (string Name, string Value)[] variables)
    {
        var run = await project.RunAsync(target, variables);
        Assert.True(run.Status == RunStatus.Succeeded, $"run of '{target}' {run.Status}: {run.Error}");
        return run;
    }

    public static async Task<IReadOnlyList<Anomaly>> AnomaliesOfAsync(this TestProject project, string runId) =>
        await (await project.StoreAsync()).FindAnomaliesAsync(runId, new Page(0, 1000), None);

    /// <summary>The single anomaly of the run (fails listing them otherwise).</summary>
    public static async Task<Anomaly> SingleAnomalyAsync(this TestProject project, string runId, string? kind = null)
    {
        var anomalies = (await project.AnomaliesOfAsync(runId)).Where(a => kind is null || a.Kind == kind).ToList();
        Assert.True(anomalies.Count == 1, $"expected one {kind ?? ""} anomaly, found {anomalies.Count}: {string.Join(" | ", anomalies.Select(a => $"{a.Kind}: {a.Message}"))}");
        return anomalies[0];
    }

    public static JsonElement DetailsOf(Anomaly anomaly) => JsonDocument.Parse(anomaly.DetailsJson ?? "null").RootElement;

    /// <summary>Rows of <c>out/passed.parquet</c>: <c>{file}</c> in the query stands for it.</summary>
    public static IReadOnlyList<object?[]> Passed(this TestProject project, string query = "SELECT id FROM {file} ORDER BY id") =>
        project.QueryLake(query, "out/passed.parquet");

    /// <summary>Every file under <c>lake/quarantine</c>, lake-relative.</summary>
    public static IReadOnlyList<string> QuarantineFiles(this TestProject project) =>
        project.FilesUnder("lake/quarantine").Select(f => f["lake/".Length..]).ToList();

    public static async Task<IReadOnlyList<DriftResult>> DriftResultsAsync(this TestProject project, string runId) =>
        await (await project.StoreAsync()).GetDriftResultsAsync(runId, None);

    public static long Long(object? value) => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
}
