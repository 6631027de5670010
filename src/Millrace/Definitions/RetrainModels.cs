using YamlDotNet.RepresentationModel;

namespace Millrace.Definitions;

/// <summary>A model a training pipeline registers: its name and task as the train step writes them.</summary>
public sealed record TrainedModel(string Name, string? Task);

/// <summary>
/// Which model a <c>retrain_when</c> watches: the one the named training pipeline's train steps register (their
/// <c>model:</c>, written without parameters). <c>retrain_when.metric</c> needs exactly one.
/// </summary>
public static class RetrainModels
{
    /// <summary>The distinct models registered by the train steps of <paramref name="pipeline"/>'s workflows.</summary>
    public static IReadOnlyList<TrainedModel> Of(ProjectDefinition project, string pipeline)
    {
        ArgumentNullException.ThrowIfNull(project);
        if (!project.Pipelines.TryGetValue(pipeline, out var definition)) return [];
        var models = new List<TrainedModel>();
        foreach (var workflow in definition.Workflows)
        {
            if (!project.Workflows.TryGetValue(workflow, out var steps)) continue;
            foreach (var step in steps.Steps.Where(s => s.Type == "train"))
                if (YamlNodeReader.Find(step.Options, "model") is YamlScalarNode { Value: { Length: > 0 } name } && !name.Contains('$', StringComparison.Ordinal)
                    && !models.Any(m => m.Name == name))
                    models.Add(new TrainedModel(name, (YamlNodeReader.Find(step.Options, "task") as YamlScalarNode)?.Value));
        }
        return models;
    }
}
