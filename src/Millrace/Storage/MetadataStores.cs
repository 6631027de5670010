using Millrace.Definitions;
using Millrace.Parameters;

namespace Millrace.Storage;

/// <summary>Opens the metadata store a project is configured for.</summary>
public static class MetadataStores
{
    /// <summary>
    /// Opens and migrates the project's store: the embedded SQLite file <c>.millrace/millrace.db</c> by default, or
    /// <c>store: sqlite:PATH</c>. <c>${env:NAME}</c> references are expanded so secrets stay out of definitions.
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
        throw new NotSupportedException($"store '{Redact(configured)}' is not supported by this build: use the default (omit 'store:') or 'sqlite:PATH'");
    }

    static string Redact(string connection) => connection.Contains('@', StringComparison.Ordinal) ? connection[..connection.IndexOf(':', StringComparison.Ordinal)] + "://…" : connection;
}
