using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>Hears what a run does as it happens: the CLI draws progress from it, the server streams it.</summary>
public interface IRunObserver
{
    void RunStarted(Run run, IReadOnlyList<(string Workflow, int Steps)> plan) { }
    void WorkflowStarted(string runId, string workflow) { }
    void StepStarted(string runId, string workflow, string stepId) { }
    void StepFinished(StepRun stepRun) { }
    void WorkflowFinished(string runId, string workflow, RunStatus status) { }
    void Log(string runId, string level, string? workflow, string? stepId, string message) { }
    void RunFinished(Run run) { }
}

/// <summary>An observer that hears nothing.</summary>
public sealed class NullRunObserver : IRunObserver
{
    public static readonly NullRunObserver Instance = new();
}
