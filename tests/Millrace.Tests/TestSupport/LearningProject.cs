using System.Text.Json;
using Millrace.Storage;

namespace Millrace.Tests.TestSupport;

/// <summary>Helpers over <see cref="TestProject"/> for the learning tests: run and expect success, read the model registry.</summary>
public static class LearningProject
{
    static readonly CancellationToken None = CancellationToken.None;

    /// <summary>Runs <paramref name="target"/> and fails with the run's error unless it succeeded (or was up to date: its inputs had not changed).</summary>
    public static async Task<Run> RunSucceededAsync(this TestProject project, string target, params (string Name, string Value)[] variables)
    {
        var run = await project.RunAsync(target, variables);
        Assert.True(run.Status.IsSuccess(), $"run of '{target}' {run.Status}: {run.Error}");
        return run;
    }

    /// <summary>A registered version (the latest when <paramref name="version"/> is null); fails when there is none.</summary>
    public static async Task<ModelVersion> ModelAsync(this TestProject project, string name, int? version = null) =>
        await (await project.StoreAsync()).GetModelVersionAsync(name, version, null, None)
        ?? throw new Xunit.Sdk.XunitException($"model '{name}' has no version {version?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(latest)"}");

    public static async Task<IReadOnlyList<ModelVersion>> ModelVersionsAsync(this TestProject project, string name) =>
        await (await project.StoreAsync()).ListModelVersionsAsync(name, None);

    public static async Task<IReadOnlyDictionary<string, int>> AliasesAsync(this TestProject project, string name) =>
        await (await project.StoreAsync()).GetAliasesAsync(name, None);

    public static async Task<IReadOnlyList<AliasHistoryEntry>> AliasHistoryAsync(this TestProject project, string name) =>
        await (await project.StoreAsync()).GetAliasHistoryAsync(name, None);

    /// <summary>The details a step recorded (its result figures), as JSON.</summary>
    public static async Task<JsonElement> StepDetailsAsync(this TestProject project, string runId, string stepId)
    {
        var step = await project.StepRunAsync(runId, stepId);
        Assert.NotNull(step.DetailsJson);
        return JsonDocument.Parse(step.DetailsJson).RootElement;
    }

    /// <summary>Rows of a Parquet or CSV file (or folder glob) in the lake, via DuckDB.</summary>
    public static IReadOnlyList<object?[]> QueryLake(this TestProject project, string selectWithFrom, string lakePath)
    {
        var path = project.LakePath(lakePath);
        var source = lakePath.EndsWith(".csv", StringComparison.Ordinal) ? $"read_csv('{path}')" : $"read_parquet('{path}')";
        return TestProject.Query(selectWithFrom.Replace("{file}", source, StringComparison.Ordinal));
    }

    /// <summary>A workflow that reads <paramref name="csv"/> from the lake and trains on it with the given train-step fields.</summary>
    public static TestProject TrainWorkflow(this TestProject project, string name, string csv, string trainFields) =>
        project.Workflow(name, $"""
            name: {name}
            steps:
              - id: data
                type: read
                path: {csv}
              - id: fit
                type: train
                input: data
            {Indent(trainFields, "    ")}
            """);

    /// <summary>Indents every line of <paramref name="text"/>.</summary>
    public static string Indent(string text, string indent) =>
        string.Join("\n", text.ReplaceLineEndings("\n").Trim('\n').Split('\n').Select(line => indent + line));
}
