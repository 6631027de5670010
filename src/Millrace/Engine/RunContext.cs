using Microsoft.Extensions.Logging;
using Millrace.Definitions;
using Millrace.Lake;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>The state of one run shared by its workflows and steps.</summary>
public sealed class RunContext
{
    public required string RunId { get; init; }
    public required ProjectDefinition Project { get; init; }
    public required IMetadataStore Store { get; init; }
    public required LakeRoot Lake { get; init; }
    public required StepCatalog Catalog { get; init; }
    public required IReadOnlyDictionary<string, ParameterValue> Parameters { get; init; }
    public required IRunObserver Observer { get; init; }
    public required ILogger Logger { get; init; }
    /// <summary>DuckDB threads for this run (null = DuckDB's default: all cores).</summary>
    public int? DuckDbThreads { get; init; }
    /// <summary>The clock of the run: its steps' and records' timestamps (the host's; <see cref="TimeProvider.System"/> by default).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
    /// <summary>The crash points of the exactly-once tests (the host's; armed nowhere by default).</summary>
    public FaultInjector Faults { get; init; } = FaultInjector.None;

    public async Task LogAsync(string level, string? workflow, string? stepId, string message, CancellationToken ct)
    {
        var logLevel = level switch { "error" => LogLevel.Error, "warn" => LogLevel.Warning, _ => LogLevel.Information };
        Logger.Log(logLevel, "[{RunId}] {Where}{Message}", RunId, workflow is null ? "" : stepId is null ? $"{workflow}: " : $"{workflow}.{stepId}: ", message);
        // What viewers see (the run's log in the UI and API) names lake files lake-relative, never the server's folders.
        message = Lake.Relativize(message);
        Observer.Log(RunId, level, workflow, stepId, message);
        // The log is part of the audit trail even when the run is being cancelled.
        await Store.AppendLogAsync(RunId, Clock.GetUtcNow(), level, workflow, stepId, message, CancellationToken.None);
        _ = ct;
    }
}
