using System.Collections.Concurrent;
using Millrace.Server.Storage;

namespace Millrace.Server.Hosting;

/// <summary>The projects this server hosts, by id, and where each API token lives.</summary>
public sealed class ProjectRegistry(IReadOnlyList<ProjectHost> hosts) : IAsyncDisposable
{
    readonly Dictionary<string, ProjectHost> _byId = hosts.ToDictionary(h => h.Id, StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, ProjectHost> _tokenHomes = new(StringComparer.Ordinal);

    public IReadOnlyList<ProjectHost> All { get; } = hosts;

    public ProjectHost? Find(string projectId) => _byId.GetValueOrDefault(projectId);

    /// <summary>The ids of the hosted projects, for error messages.</summary>
    public string Names => string.Join(", ", _byId.Keys.Order(StringComparer.Ordinal));

    /// <summary>Finds a token by its public id in the stores of the hosted projects (each token lives in its project's store).</summary>
    public async Task<(ProjectHost Host, ApiToken Token)?> FindTokenAsync(string tokenId, CancellationToken ct)
    {
        if (_tokenHomes.TryGetValue(tokenId, out var home) && await home.ServerStore.GetTokenAsync(tokenId, ct) is { } cached)
            return (home, cached);
        foreach (var host in All)
            if (await host.ServerStore.GetTokenAsync(tokenId, ct) is { } token)
            {
                _tokenHomes[tokenId] = host;
                return (host, token);
            }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in All) await host.DisposeAsync();
    }
}
