using System.Collections.Concurrent;
using Millrace.Engine;
using Millrace.Storage;

namespace Millrace.Tests.TestSupport;

/// <summary>Records what a run reports, in order, and lets a test act when a step starts or finishes.</summary>
public sealed class RecordingObserver : IRunObserver
{
    readonly ConcurrentQueue<string> _events = new();

    /// <summary>Called (on the step's thread) when each step starts.</summary>
    public Action<string>? OnStepStarted { get; init; }

    /// <summary>Called (on the step's thread) after each step finishes.</summary>
    public Action<StepRun>? OnStepFinished { get; init; }

    /// <summary>Events such as <c>start:a</c> and <c>end:a:Succeeded</c>, in the order they happened.</summary>
    public IReadOnlyList<string> Events => [.. _events];

    public void StepStarted(string runId, string workflow, string stepId)
    {
        _events.Enqueue($"start:{stepId}");
        OnStepStarted?.Invoke(stepId);
    }

    public void StepFinished(StepRun stepRun)
    {
        _events.Enqueue($"end:{stepRun.StepId}:{stepRun.Status}");
        OnStepFinished?.Invoke(stepRun);
    }

    public void WorkflowFinished(string runId, string workflow, RunStatus status) => _events.Enqueue($"workflow:{workflow}:{status}");
}
