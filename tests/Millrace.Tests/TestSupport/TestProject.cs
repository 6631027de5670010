using DuckDB.NET.Data;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Tests.TestSupport;

/// <summary>
/// A small Millrace project in a temp folder: write millrace.yaml, workflows, pipelines and lake files, then load
/// it, run it with the real <see cref="Runner"/> against a real SQLite store, and query what it committed.
/// </summary>
public sealed class TestProject : IAsyncDisposable
{
    readonly TempDirectory _folder = new("project");
    SqliteMetadataStore? _store;

    public TestProject(string id = "test", string? projectYaml = null)
    {
        File("millrace.yaml", projectYaml ?? $"id: {id}\nname: Test project\n");
    }

    /// <summary>The project folder (absolute).</summary>
    public string Directory => _folder.Path;

    /// <summary>The lake root (the default <c>./lake</c>).</summary>
    public string LakeDirectory => Path.Combine(Directory, "lake");

    /// <summary>Writes a file relative to the project folder.</summary>
    public TestProject File(string relative, string content)
    {
        _folder.Write(relative, content);
        return this;
    }

    public TestProject Workflow(string name, string yaml) => File($"workflows/{name}.yaml", yaml);

    public TestProject Pipeline(string name, string yaml) => File($"pipelines/{name}.yaml", yaml);

    /// <summary>Writes a file relative to the lake root.</summary>
    public TestProject LakeFile(string relative, string content) => File(Path.Combine("lake", relative), content);

    /// <summary>The absolute path of a lake-relative path.</summary>
    public string LakePath(string relative) => Path.Combine(LakeDirectory, relative);

    /// <summary>Loads the project; definitions the loader accepts must be accepted by the JSON Schema too (every test project is a schema test).</summary>
    public ProjectDefinition Open()
    {
        var project = Project.Open(Directory);
        SchemaValidation.AssertAccepted(Directory);
        return project;
    }

    /// <summary>Checks the project; with no errors, the JSON Schema must accept its files too.</summary>
    public IReadOnlyList<DefinitionError> Check()
    {
        var errors = Project.Check(Directory).Errors;
        if (errors.Count == 0) SchemaValidation.AssertAccepted(Directory);
        return errors;
    }

    /// <summary>The project's SQLite store (<c>.millrace/millrace.db</c>), opened and migrated once.</summary>
    public async Task<IMetadataStore> StoreAsync() =>
        _store ??= await SqliteMetadataStore.OpenAsync(Path.Combine(Directory, ".millrace", "millrace.db"), CancellationToken.None);

    /// <summary>Loads the definitions as they are now and runs <paramref name="target"/> with <c>--var</c> values.</summary>
    public Task<Run> RunAsync(string target, params (string Name, string Value)[] variables) =>
        RunAsync(new RunRequest(target, variables.Select(v => new KeyValuePair<string, string>(v.Name, v.Value)).ToList()));

    public async Task<Run> RunAsync(RunRequest request, IRunObserver? observer = null, CancellationToken ct = default)
    {
        var runner = new Runner(Open(), await StoreAsync()) { DuckDbThreads = 2 };
        return await runner.RunAsync(request, observer, ct);
    }

    /// <summary>Submits <paramref name="target"/> to the CLI's in-process coordinator: the target's policy, retries and retraining apply.</summary>
    public async Task<RunResult> SubmitAsync(string target, params (string Name, string Value)[] variables)
    {
        var project = Open();
        var store = await StoreAsync();
        var coordinator = new InProcessRunCoordinator(new Runner(project, store) { DuckDbThreads = 2 }, project, store);
        return await coordinator.SubmitAsync(new RunRequest(target, variables.Select(v => new KeyValuePair<string, string>(v.Name, v.Value)).ToList()),
            new RunRequestInfo(), null, CancellationToken.None);
    }

    public async Task<IReadOnlyList<StepRun>> StepRunsAsync(string runId) => await (await StoreAsync()).GetStepRunsAsync(runId, CancellationToken.None);

    public async Task<StepRun> StepRunAsync(string runId, string stepId) => (await StepRunsAsync(runId)).Single(s => s.StepId == stepId);

    public async Task<DatasetVersion?> DatasetVersionAsync(string dataset, int? version = null) =>
        await (await StoreAsync()).GetDatasetVersionAsync(dataset, version, CancellationToken.None);

    /// <summary>Runs <paramref name="selectFromDataset"/> with <c>{dataset}</c> replaced by the version's files (read with DuckDB).</summary>
    public async Task<IReadOnlyList<object?[]>> QueryDatasetAsync(string dataset, string selectFromDataset, int? version = null)
    {
        var committed = await DatasetVersionAsync(dataset, version) ?? throw new InvalidOperationException($"dataset '{dataset}' has no version");
        Assert.NotEmpty(committed.Files);
        // The project's lake: the folder, or for an S3 lake its cache, into which the files are fetched first.
        var files = "[" + string.Join(", ", (await Millrace.Lake.LakeRoot.Open(Open()).FetchAsync(committed.Files, CancellationToken.None)).Select(SqlText.Quote)) + "]";
        return Query(selectFromDataset.Replace("{dataset}", $"read_parquet({files}, union_by_name = true)", StringComparison.Ordinal));
    }

    /// <summary>Runs a DuckDB query in a fresh in-memory database and returns its rows.</summary>
    public static IReadOnlyList<object?[]> Query(string sql)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        return Millrace.Internal.DuckDb.Rows(connection, sql);
    }

    /// <summary>Runs DuckDB statements (e.g. a COPY that makes a Parquet file) in a fresh in-memory database.</summary>
    public static void Execute(string sql)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Every file under the project folder, project-relative with '/' (for "nothing was written" checks).</summary>
    public IReadOnlyList<string> FilesUnder(string relative)
    {
        var full = Path.Combine(Directory, relative);
        if (!System.IO.Directory.Exists(full)) return [];
        return System.IO.Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Directory, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null) await _store.DisposeAsync();
        _folder.Dispose();
    }
}
