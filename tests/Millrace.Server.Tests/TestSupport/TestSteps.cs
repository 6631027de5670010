using System.Collections.Concurrent;
using System.Globalization;
using Millrace.Definitions;
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

    static StepKind Gate { get; } = new("gate", "Test: waits until the test opens the gate.", [new("gate", "name", true, "gate name")], true,
        (definition, reader) => reader.String(definition.Options, "gate", required: true) is { } name ? new Step(async (context, ct) =>
        {
            Entered.AddOrUpdate(name, 1, (_, n) => n + 1);
            await GateSources.GetOrAdd(name, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(ct);
        }) : null);

    static StepKind Sleep { get; } = new("sleep", "Test: waits some seconds.", [new("seconds", "number", true, "how long")], true,
        (definition, reader) => reader.Double(definition.Options, "seconds") is { } seconds ? new Step((_, ct) => Task.Delay(TimeSpan.FromSeconds(seconds), ct)) : null);

    static StepKind Flaky { get; } = new("flaky", "Test: fails its first N executions.", [new("counter", "name", true, "counter name"), new("failures", "int", true, "how many")], true,
        (definition, reader) => reader.String(definition.Options, "counter", required: true) is { } counter && reader.Int(definition.Options, "failures") is { } failures
            ? new Step((_, _) =>
            {
                var count = FlakyCounts.AddOrUpdate(counter, 1, (_, n) => n + 1);
                return count <= failures ? throw new StepFailedException($"flaky failure {count.ToString(CultureInfo.InvariantCulture)} of {failures.ToString(CultureInfo.InvariantCulture)}") : Task.CompletedTask;
            })
            : null);

    static StepKind Anomalous { get; } = new("anomaly", "Test: records a volume anomaly (warn) and goes on.", [new("message", "text", true, "the anomaly's message")], true,
        (definition, reader) => reader.String(definition.Options, "message", required: true) is { } message
            ? new Step((context, ct) => context.ReportAnomalyAsync("volume", Millrace.Storage.AnomalySeverity.Warning, "warn", message, new { rows = 3 }, ct))
            : null);

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
