namespace Millrace.Storage;

/// <summary>
/// Realized performance: how a model version's served predictions scored once their labels arrived, one point per
/// (project, model, version, variant, score date). Written by the <c>evaluate</c> step; read by
/// <c>models performance</c>, the API, the model page, <c>retrain_when.metric</c> and the shadow promotion gate.
/// </summary>
public interface IPerformanceStore
{
    /// <summary>
    /// Records <paramref name="points"/> in one transaction. A point for a key that exists already replaces it (a rerun
    /// of the evaluation for a date, or labels that arrived later, give the newer figure).
    /// </summary>
    Task AddPerformanceAsync(IReadOnlyList<PerformancePoint> points, CancellationToken ct);

    /// <summary>
    /// The points of <paramref name="model"/> in <paramref name="projectId"/> with score dates from
    /// <paramref name="from"/> to <paramref name="to"/> (inclusive, null: unbounded), of one version or (null) all,
    /// ordered by score date, version and variant.
    /// </summary>
    Task<IReadOnlyList<PerformancePoint>> ListPerformanceAsync(string projectId, string model, int? version, DateOnly? from, DateOnly? to, CancellationToken ct);
}
