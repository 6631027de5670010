using System.Collections.Concurrent;
using System.Globalization;
using Millrace.Definitions;
using Millrace.Definitions.Options;
using Millrace.Engine;

namespace Millrace.Server.Tests.TestSupport;

/// <summary>
/// Step kinds that make timing deterministic in server tests: <c>gate</c> waits until the test opens the gate of its
/// name, <c>sleep</c> waits a number of seconds, <c>flaky</c> fails its first N executions. Each honours cancellation
/// as real steps do and leaves a one-row output table.
/// </summary>
public static class TestSteps
{
    static readonly ConcurrentDictionary<string, TaskCompletionSource> GateSources = new(StringComparer.Ordinal);
    static readonly ConcurrentDictionary<string, int> FlakyCounts = new(StringComparer.Ordinal);
    static readonly ConcurrentDictionary<string, int> Entered = new(StringComparer.Ordinal);


    /// <summary>A gate name unique to one test.</summary>
    public static string NewGate() => "gate_" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Lets every run waiting at (and every later run reaching) the gate go on.</summary>
    public static void Open(string gate) => GateSources.GetOrAdd(gate, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>How many step executions reached the gate so far.</summary>
    public static int Reached(string gate) => Entered.GetValueOrDefault(gate);

    sealed record GateOptions
    {
        [Option("gate", "gate name", Required = true)] public string Gate { get; init; } = "";
    }

    sealed record SleepOptions
    {
        [Option("seconds", "how long", Required = true)] public double Seconds { get; init; }
    }

    sealed record FlakyOptions
    {
        [Option("counter", "counter name", Required = true)] public string Counter { get; init; } = "";
        [Option("failures", "how many", Required = true)] public int Failures { get; init; }
    }

    sealed record AnomalyOptions
    {
        [Option("message", "the anomaly's message", Required = true)] public string Message { get; init; } = "";
        [Option("kind", "the anomaly's kind (default volume)")] public string Kind { get; init; } = "volume";
    }

    static StepKind Gate { get; } = StepKind.Create<GateOptions>("gate", "Test: waits until the test opens the gate.", (_, _, o) => new Step(async (context, ct) =>
    {
        Entered.AddOrUpdate(o.Gate, 1, (_, n) => n + 1);
        await GateSources.GetOrAdd(o.Gate, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(ct);
    }));

    static StepKind Sleep { get; } = StepKind.Create<SleepOptions>("sleep", "Test: waits some seconds.",
        (_, _, o) => new Step((_, ct) => Task.Delay(TimeSpan.FromSeconds(o.Seconds), ct)));

    static StepKind Flaky { get; } = StepKind.Create<FlakyOptions>("flaky", "Test: fails its first N executions.", (_, _, o) => new Step((_, _) =>
    {
        var count = FlakyCounts.AddOrUpdate(o.Counter, 1, (_, n) => n + 1);
        return count <= o.Failures ? throw new StepFailedException($"flaky failure {count.ToString(CultureInfo.InvariantCulture)} of {o.Failures.ToString(CultureInfo.InvariantCulture)}") : Task.CompletedTask;
    }));

    static StepKind Anomalous { get; } = StepKind.Create<AnomalyOptions>("anomaly", "Test: records an anomaly (warn, kind volume unless told) and goes on.",
        (_, _, o) => new Step((context, ct) => context.ReportAnomalyAsync(o.Kind, Millrace.Storage.AnomalySeverity.Warning, "warn", o.Message, new { rows = 3 }, ct)));

    /// <summary>The built-in kinds plus the test kinds (declared after them: static fields initialize in order).</summary>
    public static StepCatalog Catalog { get; } = new(StepCatalog.Default.Kinds.Concat([Gate, Sleep, Flaky, Anomalous]));

    sealed class Step(Func<StepContext, CancellationToken, Task> body) : IStep
    {
        public async ValueTask<StepResult> ExecuteAsync(StepContext context, CancellationToken ct)
        {
            await body(context, ct);
            using var command = context.Connection.CreateCommand();
            command.CommandText = $"CREATE TABLE {context.OutputTable} AS SELECT 1 AS x";
            await command.ExecuteNonQueryAsync(ct);
            return new StepResult(1);
        }
    }
}
