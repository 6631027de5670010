namespace Millrace.Storage;

/// <summary>What incremental read steps have taken: the files each committed (written by <see cref="IDatasetStore.CommitAsync"/>).</summary>
public interface IWatermarkStore
{
    /// <summary>The files an incremental read step has committed, by path.</summary>
    Task<IReadOnlyDictionary<string, WatermarkFile>> GetWatermarkAsync(string workflow, string stepId, CancellationToken ct);
}
