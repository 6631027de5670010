using Microsoft.Extensions.Logging;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Hosting;

/// <summary>
/// One project the server hosts: its definitions (reloadable), its metadata store, the server's store beside it (tokens,
/// audit, webhooks, schedule state) and the runner that executes its runs. A reload swaps the definitions for runs that start afterwards; runs already running keep theirs.
/// </summary>
public sealed class ProjectHost : IAsyncDisposable
{
    readonly StepCatalog _catalog;
    readonly ILogger _logger;
    readonly int? _duckDbThreads;
    volatile State _state;

    sealed record State(ProjectDefinition Definition, Runner Runner);

    ProjectHost(string directory, ProjectDefinition definition, IMetadataStore store, IServerStore serverStore, StepCatalog catalog, ILogger logger, int? duckDbThreads)
    {
        Directory = directory;
        Store = store;
        ServerStore = serverStore;
        _catalog = catalog;
        _logger = logger;
        _duckDbThreads = duckDbThreads;
        _state = new State(definition, NewRunner(definition));
    }

    /// <summary>Loads, validates and opens the project in <paramref name="directory"/>; throws <see cref="DefinitionException"/>.</summary>
    public static async Task<ProjectHost> OpenAsync(string directory, StepCatalog catalog, ILogger logger, int? duckDbThreads, CancellationToken ct, bool createStore = false)
    {
        var definition = Project.Open(directory, catalog);
        var store = await MetadataStores.OpenAsync(definition, ct, createStore);
        try
        {
            var serverStore = await Storage.ServerStore.OpenAsync(store.Database, ct);
            return new ProjectHost(definition.Directory, definition, store, serverStore, catalog, logger, duckDbThreads);
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    public string Id => _state.Definition.Id;
    /// <summary>The project folder.</summary>
    public string Directory { get; }
    public ProjectDefinition Definition => _state.Definition;
    public Runner Runner => _state.Runner;
    public IMetadataStore Store { get; }
    /// <summary>The server's own tables (tokens, audit, webhook deliveries, schedule state), in the same database as <see cref="Store"/>.</summary>
    public IServerStore ServerStore { get; }
    public StepCatalog Catalog => _catalog;

    /// <summary>Checks the definitions on disk as they are now.</summary>
    public IReadOnlyList<DefinitionError> Check() => Project.Check(Directory, _catalog).Errors;

    /// <summary>
    /// Loads the definitions again. With errors nothing changes and the errors are returned; the project id cannot
    /// change while served.
    /// </summary>
    public IReadOnlyList<DefinitionError> Reload()
    {
        var (definition, errors) = Project.Check(Directory, _catalog);
        if (errors.Count > 0) return errors;
        if (definition.Id != Id)
            return [new DefinitionError(new SourceLocation(ProjectLoader.ProjectFileName, 1, 1), null, $"the project id changed from '{Id}' to '{definition.Id}'; restart the server to serve it under the new id")];
        _state = new State(definition, NewRunner(definition));
        return [];
    }

    Runner NewRunner(ProjectDefinition definition) => new(definition, Store, _catalog, _logger) { DuckDbThreads = _duckDbThreads };

    public ValueTask DisposeAsync() => Store.DisposeAsync();
}
