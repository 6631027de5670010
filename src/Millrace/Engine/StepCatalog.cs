using Millrace.Steps;

namespace Millrace.Engine;

/// <summary>The step kinds a project can use, by name. <see cref="Default"/> holds every built-in kind.</summary>
public sealed class StepCatalog
{
    readonly Dictionary<string, StepKind> _kinds;

    public StepCatalog(IEnumerable<StepKind> kinds) => _kinds = kinds.ToDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>The built-in step kinds.</summary>
    public static StepCatalog Default { get; } = new([ReadStep.Kind, SqlStep.Kind, WriteStep.Kind, MergeStep.Kind, TrainStep.Kind, PredictStep.Kind, CheckStep.Kind, DriftStep.Kind, EvaluateStep.Kind, DetectAnomaliesStep.Kind, ReportStep.Kind, ModelReportStep.Kind]);

    public IReadOnlyCollection<StepKind> Kinds => _kinds.Values.OrderBy(k => k.Name, StringComparer.Ordinal).ToList();

    public bool TryGet(string name, out StepKind kind) => _kinds.TryGetValue(name, out kind!);
}
