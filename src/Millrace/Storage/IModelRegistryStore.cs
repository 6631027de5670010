namespace Millrace.Storage;

/// <summary>The model registry: model versions (committed with their workflow) and the aliases that point at them.</summary>
public interface IModelRegistryStore
{
    /// <summary>A model version, or the version an alias points at when <paramref name="version"/> is null and <paramref name="alias"/> is given.</summary>
    Task<ModelVersion?> GetModelVersionAsync(string name, int? version, string? alias, CancellationToken ct);
    Task<IReadOnlyList<ModelVersion>> ListModelVersionsAsync(string name, CancellationToken ct);
    /// <summary>Every registered model name.</summary>
    Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken ct);
    /// <summary>The model's aliases: alias → version.</summary>
    Task<IReadOnlyDictionary<string, int>> GetAliasesAsync(string name, CancellationToken ct);
    /// <summary>Every alias change of the model, newest first.</summary>
    Task<IReadOnlyList<AliasHistoryEntry>> GetAliasHistoryAsync(string name, CancellationToken ct);
    /// <summary>Applies alias changes in one transaction and records them; a change whose alias moved meanwhile is a <see cref="CommitConflictException"/>.</summary>
    Task ChangeAliasesAsync(IReadOnlyList<AliasChange> changes, string? runId, CancellationToken ct);
}
