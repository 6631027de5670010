using Microsoft.Extensions.Logging;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Lake;
using Millrace.Learning;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Hosting;

/// <summary>
/// One project the server hosts: its definitions (reloadable), its metadata store, the server's store beside it (tokens,
/// audit, webhooks, schedule state), the runner that executes its runs, its online scorer and the S3 clients its lakes
/// share. A reload swaps the definitions for runs that start afterwards; runs already running keep theirs.
/// </summary>
public sealed class ProjectHost : IAsyncDisposable
{
    readonly StepCatalog _catalog;
    readonly ILogger _logger;
    readonly int? _duckDbThreads;
    readonly FaultInjector _faults;
    volatile State _state;

    sealed record State(ProjectDefinition Definition, Runner Runner);

    ProjectHost(string directory, ProjectDefinition definition, IMetadataStore store, IServerStore serverStore, StepCatalog catalog, ILogger logger, int? duckDbThreads,
        TimeProvider clock, NodeIdentity node, FaultInjector faults)
    {
        Directory = directory;
        Clock = clock;
        Node = node;
        _faults = faults;
        Store = store;
        ServerStore = serverStore;
        _catalog = catalog;
        _logger = logger;
        _duckDbThreads = duckDbThreads;
        _state = new State(definition, NewRunner(definition));
        Scorer = new OnlineScorer(store, OpenLake);
    }

    /// <summary>Loads, validates and opens the project in <paramref name="directory"/>; throws <see cref="DefinitionException"/>.</summary>
    /// <remarks>Its runners take their clock, node identity and crash points from <paramref name="clock"/>, <paramref name="node"/> and <paramref name="faults"/>.</remarks>
    public static async Task<ProjectHost> OpenAsync(string directory, StepCatalog catalog, ILogger logger, int? duckDbThreads,
        TimeProvider clock, NodeIdentity node, FaultInjector faults, CancellationToken ct, bool createStore = false)
    {
        var definition = Project.Open(directory, catalog);
        var store = await MetadataStores.OpenAsync(definition, ct, createStore, clock);
        try
        {
            var serverStore = await Storage.ServerStore.OpenAsync(store.Database, ct);
            return new ProjectHost(definition.Directory, definition, store, serverStore, catalog, logger, duckDbThreads, clock, node, faults);
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
    /// <summary>The server's clock (the one its runners use).</summary>
    public TimeProvider Clock { get; }
    /// <summary>The node the server's runners record their runs under.</summary>
    public NodeIdentity Node { get; }

    /// <summary>Online scoring for this project, with its bounded cache of loaded models.</summary>
    public OnlineScorer Scorer { get; }

    /// <summary>The S3 clients every lake this project opens shares (none are made for a local lake).</summary>
    public S3ClientCache S3Clients { get; } = new();

    /// <summary>The project's lake as the current definitions name it, through this host's S3 clients.</summary>
    public LakeRoot OpenLake() => LakeRoot.Open(Definition, S3Clients);

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

    Runner NewRunner(ProjectDefinition definition) => new(definition, Store, _catalog, _logger)
    {
        DuckDbThreads = _duckDbThreads, Clock = Clock, Node = Node, Faults = _faults,
        OpenLake = project => LakeRoot.Open(project, S3Clients),
    };

    /// <summary>Closes the scorer, the S3 clients and the store.</summary>
    public async ValueTask DisposeAsync()
    {
        Scorer.Dispose();
        S3Clients.Dispose();
        await Store.DisposeAsync();
    }
}
