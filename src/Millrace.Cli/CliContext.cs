using System.CommandLine;
using Microsoft.Extensions.Logging;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Storage;

namespace Millrace.Cli;

/// <summary>
/// What every command shares: output writers, the --project and --verbose options, the parsed --var values, the step
/// kinds, and the S3 clients of the lakes the command opens (disposed with the context, when the command has finished).
/// </summary>
public sealed class CliContext(TextWriter output, TextWriter error, IReadOnlyList<KeyValuePair<string, string>> variables, StepCatalog? catalog = null) : IDisposable
{
    public static readonly Option<string?> ProjectOption = new("--project", "-p")
    {
        Description = "Project folder (default: the current folder or the nearest parent with millrace.yaml).",
        Recursive = true,
    };

    public static readonly Option<bool> VerboseOption = new("--verbose", "-v")
    {
        Description = "Log engine details to standard error.",
        Recursive = true,
    };

    public static readonly Option<bool> CreateStoreOption = new("--create-store")
    {
        Description = "Create the store if it does not exist, even though the lake holds committed data (its store was lost: restore the backup instead, unless starting over is meant).",
        Recursive = true,
    };

    public TextWriter Output { get; } = output;
    public TextWriter Error { get; } = error;
    public IReadOnlyList<KeyValuePair<string, string>> Variables { get; } = variables;

    /// <summary>The step kinds definitions may use (the built-in ones; tests add their own).</summary>
    public StepCatalog Catalog { get; } = catalog ?? StepCatalog.Default;

    /// <summary>
    /// The in-process coordinator of a command that runs things (run, rerun, retry, backfill, quickstart): the target's
    /// policy (max_active across processes and servers, on_overlap, retries, retrain_when) applies as on the server.
    /// </summary>
    public InProcessRunCoordinator Coordinator(ProjectDefinition project, IMetadataStore store, ILogger logger, TimeProvider? clock = null) =>
        new(NewRunner(project, store, logger, clock), project, store, clock ?? Clock, logger);

    /// <summary>The S3 clients every lake this command opens shares.</summary>
    public Lake.S3ClientCache S3Clients { get; } = new();

    /// <summary>The project's lake, through this command's S3 clients.</summary>
    public Lake.LakeRoot OpenLake(ProjectDefinition project) => Lake.LakeRoot.Open(project, S3Clients);

    public void Dispose() => S3Clients.Dispose();

    /// <summary>The clock every command takes "now" from (<see cref="TimeProvider.System"/> unless a test passes its own).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The node this process records its runs under.</summary>
    public NodeIdentity Node { get; init; } = NodeIdentity.Process;

    /// <summary>The crash points of the exactly-once tests (<see cref="CliApp"/> arms them from <c>MILLRACE_FAULT</c>).</summary>
    public FaultInjector Faults { get; init; } = FaultInjector.None;

    /// <summary>A runner for <paramref name="project"/> with this host's clock, node identity and crash points.</summary>
    public Runner NewRunner(ProjectDefinition project, IMetadataStore store, ILogger? logger = null, TimeProvider? clock = null) =>
        new(project, store, Catalog, logger) { Clock = clock ?? Clock, Node = Node, Faults = Faults, OpenLake = OpenLake };

    /// <summary>True when standard output is a terminal that can draw progress bars.</summary>
    public bool Interactive => ReferenceEquals(Output, Console.Out) && !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb");

    /// <summary>Finds and loads the project (definitions only: no validation errors thrown).</summary>
    public string ProjectDirectory(ParseResult parse)
    {
        var given = parse.GetValue(ProjectOption);
        var directory = given is null ? ProjectLoader.FindProjectDirectory(Environment.CurrentDirectory) : Path.GetFullPath(given);
        if (directory is null || !File.Exists(Path.Combine(directory, ProjectLoader.ProjectFileName)))
            throw new CliException($"no {ProjectLoader.ProjectFileName} found in {given ?? Environment.CurrentDirectory}{(given is null ? " or its parents" : "")}; pass --project DIR or run 'millrace init'");
        return directory;
    }

    /// <summary>
    /// Loads the project for commands that only read its history (runs, run show, datasets, anomalies): definition
    /// errors do not stop them, so a broken YAML file never hides what already ran.
    /// </summary>
    public ProjectDefinition LoadProject(ParseResult parse)
    {
        var (project, errors) = Project.Check(ProjectDirectory(parse), Catalog);
        if (errors.Count > 0)
            Error.WriteLine($"warning: the definitions have {errors.Count} error{(errors.Count == 1 ? "" : "s")} (the first: {errors[0]})" +
                (errors.Any(e => e.Location.File == ProjectLoader.ProjectFileName) ? $"; {ProjectLoader.ProjectFileName} has errors, so its store and lake settings may be ignored" : "") +
                "; showing what the store holds. Run 'millrace validate' for the full list.");
        return project;
    }

    /// <summary>Opens and validates the project, or throws <see cref="CliException"/> listing the errors.</summary>
    public ProjectDefinition OpenProject(ParseResult parse)
    {
        try
        {
            return Project.Open(ProjectDirectory(parse), Catalog);
        }
        catch (DefinitionException e)
        {
            throw new CliException(e.Message + Environment.NewLine + "Run 'millrace validate' for the full list.");
        }
    }

    /// <summary>
    /// Opens the project's store. A missing store is created only for a project whose lake holds no committed data,
    /// or when <paramref name="create"/> is true (init, quickstart, <c>--create-store</c>); see <see cref="MetadataStores.OpenAsync"/>.
    /// </summary>
    public static Task<IMetadataStore> OpenStoreAsync(ProjectDefinition project, CancellationToken ct, bool create = false) => MetadataStores.OpenAsync(project, ct, create);

    /// <summary>Opens the project's store, creating it when <c>--create-store</c> was given.</summary>
    public static Task<IMetadataStore> OpenStoreAsync(ParseResult parse, ProjectDefinition project, CancellationToken ct) =>
        MetadataStores.OpenAsync(project, ct, parse.GetValue(CreateStoreOption));

    /// <summary>Parses a duration flag within <paramref name="bounds"/>, or throws a usage error naming the flag.</summary>
    public static TimeSpan Duration(string flag, string text, DurationBounds bounds) =>
        Durations.TryParse(text, bounds, out var value, out var problem) ? value : throw new CliException($"{flag} {problem}", CliApp.UsageError);

    public ILoggerFactory Logging(ParseResult parse) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(parse.GetValue(VerboseOption) ? LogLevel.Information : LogLevel.Warning);
        builder.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.AddFilter("Millrace", parse.GetValue(VerboseOption) ? LogLevel.Information : LogLevel.None);
    });

    /// <summary>Wraps a command body: a <see cref="CliException"/> becomes a one-line error and its exit code.</summary>
    public Func<ParseResult, CancellationToken, Task<int>> Guard(Func<ParseResult, CancellationToken, Task<int>> body) => async (parse, ct) =>
    {
        try
        {
            return await body(parse, ct);
        }
        catch (CliException e)
        {
            await Error.WriteLineAsync($"error: {e.Message}");
            return e.ExitCode;
        }
        catch (Exception e) when (e is NotSupportedException or Parameters.ParameterException or Lake.LakePathException or Lake.LakeStorageException)
        {
            await Error.WriteLineAsync($"error: {e.Message}");
            return CliApp.Failure;
        }
        catch (Exception e) when (e is NotSupportedException or Parameters.ParameterException or Lake.LakePathException or Lake.LakeStorageException)
        {
            await Error.WriteLineAsync($"error: {e.Message}");
            return CliApp.Failure;
        }
        catch (DefinitionException e)
        {
            await Error.WriteLineAsync($"error: {e.Message}");
            await Error.WriteLineAsync("Run 'millrace validate' for the full list.");
            return CliApp.Failure;
        }
        catch (StoreUnavailableException e)
        {
            await Error.WriteLineAsync($"error: {e.Message}");
            return CliApp.Failure;
        }
        catch (Exception e) when (Engine.StoreFailures.IsStoreFailure(e))
        {
            // A store that cannot be read or written (locked past the busy timeout, a full disk): the cause, no trace.
            await Error.WriteLineAsync($"error: {Engine.StoreFailures.Describe(e)}");
            return CliApp.Failure;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await Error.WriteLineAsync("cancelled");
            return CliApp.Cancelled;
        }
    };
}

/// <summary>A command cannot go on; the message is printed as one line and the process exits with <see cref="ExitCode"/>.</summary>
public sealed class CliException(string message, int exitCode = CliApp.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
