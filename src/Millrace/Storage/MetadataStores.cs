using Millrace.Definitions;
using Millrace.Lake;
using Millrace.Parameters;

namespace Millrace.Storage;

/// <summary>
/// The store cannot be used: it is missing while the lake holds committed data (a lost store), it is damaged, or it is
/// not a Millrace store. The message says which file and what to do; nothing was created or changed.
/// </summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Opens the metadata store a project is configured for.</summary>
public static class MetadataStores
{
    /// <summary>
    /// Opens and migrates the project's store: the embedded SQLite file <c>.millrace/millrace.db</c> by default,
    /// <c>store: sqlite:PATH</c>, or PostgreSQL (<c>store: postgres://user:password@host:port/database</c>, or an
    /// Npgsql connection string; write <c>${env:MILLRACE_STORE}</c> to keep the password out of the definitions). <c>${env:NAME}</c> references are expanded so secrets stay out of definitions.
    /// <para>
    /// A store that does not exist yet (no file, a 0-byte file, a database without Millrace's tables) is created only
    /// when <paramref name="create"/> is true (<c>init</c>, <c>quickstart</c>, <c>--create-store</c>) or when the lake
    /// holds nothing Millrace committed (a new project's first run). Otherwise the store was lost, and creating an
    /// empty one would re-ingest everything as v1, overwrite published outputs and let gc delete every dataset file:
    /// <see cref="StoreUnavailableException"/> says to restore the backup. A damaged store throws it too.
    /// </para>
    /// The store stamps what it records with <paramref name="clock"/> (the host's; <see cref="TimeProvider.System"/> by default).
    /// </summary>
    public static async Task<IMetadataStore> OpenAsync(ProjectDefinition project, CancellationToken ct, bool create = false, TimeProvider? clock = null)
    {
        clock ??= TimeProvider.System;
        var configured = project.Store is null ? null : Template.Expand(project.Store, new Dictionary<string, ParameterValue>());
        if (configured is null || configured.Length == 0)
            return await OpenSqliteAsync(project, Path.Combine(project.StateDirectory, "millrace.db"), create, clock, ct);
        if (configured.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = configured["sqlite:".Length..];
            return await OpenSqliteAsync(project, Path.IsPathRooted(path) ? path : Path.Combine(project.Directory, path), create, clock, ct);
        }
        if (configured.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || configured.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            || configured.Contains("Host=", StringComparison.OrdinalIgnoreCase))
        {
            var store = new PostgresMetadataStore(configured);
            store.Database.Clock = clock;
            try
            {
                if (!create && !await store.HasSchemaAsync(ct))
                    await RefuseIfLakeHasDataAsync(project, $"the PostgreSQL store '{Redact(configured)}' has no Millrace tables", ct);
                await store.MigrateAsync(ct);
                return store;
            }
            catch
            {
                await store.DisposeAsync();
                throw;
            }
        }
        throw new NotSupportedException($"store '{Redact(configured)}' is not supported: use the default (omit 'store:'), 'sqlite:PATH', or 'postgres://user:password@host:port/database' (or an Npgsql connection string)");
    }

    static async Task<IMetadataStore> OpenSqliteAsync(ProjectDefinition project, string path, bool create, TimeProvider clock, CancellationToken ct)
    {
        var file = new FileInfo(path);
        if (!create && (!file.Exists || file.Length == 0))
            await RefuseIfLakeHasDataAsync(project, file.Exists ? $"the store {path} is empty (0 bytes)" : $"the store {path} does not exist", ct);
        if (!file.Exists)
        {
            // A journal left without its database belongs to the lost store: set it aside, never replay it into a new one.
            var stamp = clock.GetUtcNow().ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
            foreach (var journal in new[] { path + "-wal", path + "-shm", path + "-journal" }.Where(File.Exists))
                File.Move(journal, $"{journal}.orphaned-{stamp}", overwrite: true);
        }
        return await SqliteMetadataStore.OpenAsync(path, ct, clock);
    }

    /// <summary>
    /// Refuses to start a new store over a lake that already holds what some store committed (datasets, models,
    /// staged outputs): that store is lost, and its history with it.
    /// </summary>
    static async Task RefuseIfLakeHasDataAsync(ProjectDefinition project, string problem, CancellationToken ct)
    {
        var lake = LakeRoot.Open(project);
        foreach (var folder in new[] { "datasets", "models", "_staging" })
        {
            if (!lake.Storage.IsRemote && !Directory.Exists(Path.Combine(lake.Root, folder))) continue;
            var files = await lake.Storage.ListAsync(folder + "/", ct);
            if (files.Count == 0) continue;
            throw new StoreUnavailableException(
                $"{problem}, but the lake {lake.Storage.Location} holds committed data ({files.Count} file(s) under {folder}/): the store was lost. " +
                "Restore it from its backup (see docs/operations.md#backups), then run 'millrace gc'. Starting an empty store would re-ingest every file " +
                "as v1 and overwrite published outputs; to do that deliberately, pass --create-store");
        }
    }

    static string Redact(string connection) => connection.Contains('@', StringComparison.Ordinal) ? connection[..connection.IndexOf(':', StringComparison.Ordinal)] + "://…" : connection;
}
