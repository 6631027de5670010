using Millrace.Storage.Sql;

namespace Millrace.Storage;

/// <summary>
/// The metadata store a project opens: every library concern in one database (runs, run queue, datasets and commits,
/// model registry, watermarks, quality, cluster, landing triggers, deadline misses, stale marks, workflow fingerprints, realized performance, retrain decisions). SQLite is the embedded default (<see cref="SqliteMetadataStore"/>),
/// PostgreSQL the shared one; both pass the same contract tests. Code that needs one concern takes its narrow
/// interface; only what hosts a whole project (the runner, a server's project host, a CLI command) holds this.
/// </summary>
public interface IMetadataStore : IRunStore, IRunQueueStore, IDatasetStore, IModelRegistryStore, IWatermarkStore, IQualityStore, IClusterStore, ILandingStore, IDeadlineStore, IStaleStore, IMemoStore, IPerformanceStore, IRetrainStore, IAsyncDisposable
{
    /// <summary>Creates or upgrades the library's schema by applying the numbered migrations not yet applied.</summary>
    Task MigrateAsync(CancellationToken ct);

    /// <summary>
    /// The database the store keeps its tables in. Other stores on the same database borrow it (the server keeps its
    /// tokens, audit log, webhook deliveries and schedule state there, in tables of its own migrations); the metadata
    /// store owns it and closes it when disposed.
    /// </summary>
    SqlDatabase Database { get; }
}
