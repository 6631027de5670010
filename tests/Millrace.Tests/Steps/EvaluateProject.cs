using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Steps;

/// <summary>
/// A class fixture for the evaluate step: model <c>churn</c> (binary) and <c>minutes</c> (regression), each trained
/// once on the learning data, so the registry knows their task and holdout metrics. Tests seed predictions and labels
/// as datasets of their own (from CSV files in the lake) and run an evaluate workflow over them.
/// </summary>
public sealed class EvaluateProject : IAsyncLifetime
{
    public TestProject Project { get; } = new();

    public async Task InitializeAsync()
    {
        Project.LakeFile("raw/customers.csv", LearningData.Customers());
        Project.TrainWorkflow("train_churn", "raw/customers.csv", """
            model: churn
            task: binary
            label: churned
            features: { exclude: [customer_id] }
            options: { iterations: 30 }
            """);
        await Project.RunSucceededAsync("train_churn");
        Project.TrainWorkflow("train_minutes", "raw/customers.csv", """
            model: minutes
            task: regression
            label: minutes
            features: [tickets, premium]
            options: { iterations: 20 }
            """);
        await Project.RunSucceededAsync("train_minutes");
    }

    /// <summary>Writes <paramref name="csv"/> to the lake and a workflow that commits it as dataset <paramref name="dataset"/>.</summary>
    public Task SeedAsync(string dataset, string csv, string? partitionBy = null)
    {
        Project.LakeFile($"raw/{dataset}.csv", csv);
        Project.Workflow($"seed_{dataset}", $"""
            name: seed_{dataset}
            steps:
              - id: rows
                type: read
                path: raw/{dataset}.csv
              - id: out
                type: write
                input: rows
                dataset: {dataset}
            {(partitionBy is null ? "" : $"    mode: replace_partitions\n    partition_by: [{partitionBy}]")}
            """);
        return Project.RunSucceededAsync($"seed_{dataset}");
    }

    /// <summary>An evaluate workflow <paramref name="name"/> over <paramref name="inputs"/> with the given step fields.</summary>
    public void EvaluateWorkflow(string name, string inputs, string fields) =>
        Project.Workflow(name, $"""
            name: {name}
            steps:
              - id: realized
                type: evaluate
                inputs: [{inputs}]
            {LearningProject.Indent(fields, "    ")}
            """);

    public Task DisposeAsync() => Project.DisposeAsync().AsTask();
}
