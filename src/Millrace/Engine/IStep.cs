namespace Millrace.Engine;

/// <summary>
/// A step kind's executable form, made from a <see cref="Definitions.StepDefinition"/> by its
/// <see cref="StepKind"/>. A step reads its inputs as DuckDB tables and leaves its output in the table named
/// by <see cref="StepContext.OutputTable"/>; effects outside DuckDB are staged on <see cref="StepContext.Commit"/>.
/// </summary>
public interface IStep
{
    ValueTask<StepResult> ExecuteAsync(StepContext context, CancellationToken ct);
}

/// <summary>A step that writes a dataset; validation uses it to know which dataset names exist.</summary>
public interface IDatasetProducer
{
    /// <summary>The dataset name (may contain parameter references).</summary>
    string Dataset { get; }
}

/// <summary>A step that registers model versions (train); validation uses it to know which model names exist.</summary>
public interface IModelProducer
{
    string ModelName { get; }
}

/// <summary>What a step reports: rows in its output and step-specific figures kept with the run.</summary>
public sealed record StepResult(long? Rows, IReadOnlyDictionary<string, object?>? Details = null);

/// <summary>A step failed for a reason a person can act on; the message is shown as is, with the step id.</summary>
public sealed class StepFailedException(string message, Exception? inner = null) : Exception(message, inner);
