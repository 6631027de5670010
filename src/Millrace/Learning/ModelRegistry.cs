using System.Globalization;
using Microsoft.ML;
using Millrace.Engine;
using Millrace.Lake;
using Millrace.Storage;

namespace Millrace.Learning;

/// <summary>A model reference in a definition: <c>name</c> (its champion), <c>name@alias</c> or <c>name@vN</c>.</summary>
public sealed record ModelReference(string Name, int? Version, string? Alias)
{
    public static ModelReference Parse(string text)
    {
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at < 0) return new ModelReference(text, null, "champion");
        var name = text[..at];
        var suffix = text[(at + 1)..];
        if (name.Length == 0 || suffix.Length == 0) throw new FormatException($"'{text}' is not a model reference: write name, name@alias or name@vN");
        if (suffix[0] == 'v' && int.TryParse(suffix[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version > 0)
            return new ModelReference(name, version, null);
        return new ModelReference(name, null, suffix);
    }

    public override string ToString() => Version is { } v ? $"{Name}@v{v}" : $"{Name}@{Alias}";
}

/// <summary>
/// Reads registered models back (metadata from the store, the ML.NET file from the lake) and changes aliases on a
/// person's request: promote a version, roll back to the previous champion. Every change is recorded.
/// </summary>
public sealed class ModelRegistry(IModelRegistryStore store, LakeRoot lake)
{
    /// <summary>The alias the promotion gate and predict steps use by default.</summary>
    public const string Champion = "champion";
    public const string Challenger = "challenger";

    /// <summary>How a rollback's alias change is recorded ("rollback from v3").</summary>
    public const string RollbackReason = "rollback from ";

    public async Task<ModelVersion?> ResolveAsync(ModelReference reference, CancellationToken ct) =>
        await store.GetModelVersionAsync(reference.Name, reference.Version, reference.Version is null ? reference.Alias : null, ct);

    /// <summary>Loads the ML.NET model of a version from the lake (on an S3 lake, fetched into the cache first).</summary>
    public async Task<ITransformer> LoadAsync(MLContext ml, ModelVersion version, CancellationToken ct) =>
        LoadFile(ml, version, await FetchAsync(lake, version, ct));

    /// <summary>The local path of a version's model file, fetched into the cache when the lake is remote; a clear error when it is missing.</summary>
    internal static async Task<string> FetchAsync(LakeRoot lake, ModelVersion version, CancellationToken ct)
    {
        try
        {
            return (await lake.FetchAsync([version.Path], ct))[0];
        }
        catch (LakeStorageException e)
        {
            throw new StepFailedException($"model {version.Name}@v{version.Version} is registered but its file {version.Path} could not be read from the lake: {e.Message}", e);
        }
    }

    /// <summary>Loads a model file; a clear error when it is missing.</summary>
    internal static ITransformer LoadFile(MLContext ml, ModelVersion version, string path)
    {
        if (!File.Exists(path)) throw new StepFailedException($"model {version.Name}@v{version.Version} is registered but its file {version.Path} is missing from the lake");
        using var stream = File.OpenRead(path);
        return ml.Model.Load(stream, out _);
    }

    /// <summary>Points an alias (champion by default) at <paramref name="version"/>, recording who and why.</summary>
    public async Task<int?> PromoteAsync(string name, int version, string alias, string actor, string reason, CancellationToken ct)
    {
        _ = await store.GetModelVersionAsync(name, version, null, ct) ?? throw new InvalidOperationException($"model '{name}' has no version v{version}");
        var aliases = await store.GetAliasesAsync(name, ct);
        int? current = aliases.TryGetValue(alias, out var c) ? c : null;
        await store.ChangeAliasesAsync([new AliasChange(name, alias, version, current, actor, reason)], null, ct);
        return current;
    }

    /// <summary>
    /// Points champion back at the previous champion: one command to undo a promotion. Rollbacks walk back the chain
    /// of promotions (v3 → v2, then v2 → v1), so a second rollback goes further back rather than undoing the first.
    /// Returns (from, to).
    /// </summary>
    public async Task<(int From, int To)> RollbackAsync(string name, string actor, CancellationToken ct)
    {
        var aliases = await store.GetAliasesAsync(name, ct);
        if (!aliases.TryGetValue(Champion, out var current)) throw new InvalidOperationException($"model '{name}' has no champion to roll back");
        // Replay the champion's history, oldest first: a promotion pushes a version, a rollback pops one.
        var chain = new List<int>();
        foreach (var change in (await store.GetAliasHistoryAsync(name, ct)).Where(h => h.Alias == Champion).Reverse())
        {
            if (change.Reason.StartsWith(RollbackReason, StringComparison.Ordinal)) { if (chain.Count > 0) chain.RemoveAt(chain.Count - 1); }
            else if (change.Version is { } promoted) chain.Add(promoted);
        }
        if (chain.Count < 2 || chain[^1] != current)
            throw new InvalidOperationException($"model '{name}' champion v{current} has no previous champion to roll back to");
        var previous = chain[^2];
        await store.ChangeAliasesAsync([new AliasChange(name, Champion, previous, current, actor, $"{RollbackReason}v{current}")], null, ct);
        return (current, previous);
    }
}
