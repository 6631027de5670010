using Millrace.Definitions;
using Millrace.Parameters;

namespace Millrace.Storage;

/// <summary>Opens the metadata store a project is configured for.</summary>
public static class MetadataStores
{
    /// <summary>
    /// Opens and migrates the project's store: the embedded SQLite file <c>.millrace/millrace.db</c> by default,
    /// <c>store: sqlite:PATH</c>, or PostgreSQL (<c>store: postgres://user:password@host:port/database</c>, or an
    /// Npgsql connection string; write <c>${env:MILLRACE_STORE}</c> to keep the password out of the definitions). <c>${env:NAME}</c> references are expanded so secrets stay out of definitions.
    /// </summary>
    public static async Task<IMetadataStore> OpenAsync(ProjectDefinition project, CancellationToken ct)
    {
        var configured = project.Store is null ? null : Template.Expand(project.Store, new Dictionary<string, ParameterValue>());
        if (configured is null || configured.Length == 0)
            return await SqliteMetadataStore.OpenAsync(Path.Combine(project.StateDirectory, "millrace.db"), ct);
        if (configured.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = configured["sqlite:".Length..];
            return await SqliteMetadataStore.OpenAsync(Path.IsPathRooted(path) ? path : Path.Combine(project.Directory, path), ct);
        }
        if (configured.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || configured.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            || configured.Contains("Host=", StringComparison.OrdinalIgnoreCase))
            return await PostgresMetadataStore.OpenAsync(configured, ct);
        throw new NotSupportedException($"store '{Redact(configured)}' is not supported: use the default (omit 'store:'), 'sqlite:PATH', or 'postgres://user:password@host:port/database' (or an Npgsql connection string)");
    }

    static string Redact(string connection) => connection.Contains('@', StringComparison.Ordinal) ? connection[..connection.IndexOf(':', StringComparison.Ordinal)] + "://…" : connection;
}
