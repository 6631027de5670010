using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Millrace.Engine;
using Millrace.Server.Api;
using Millrace.Server.Execution;
using Millrace.Server.Hosting;
using Millrace.Server.Notifications;
using Millrace.Server.Scheduling;
using Millrace.Server.Security;

namespace Millrace.Server;

/// <summary>The server cannot start: the message says why and what to do.</summary>
public sealed class ServerStartException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// <c>millrace serve</c>: one process hosting the REST API, the Sparkflows-compatible <c>/executePipeline</c>, the
/// scheduler and the run executor for one or more projects. Build it with <see cref="BuildAsync"/>, then run or start it
/// like any ASP.NET Core application.
/// </summary>
public static class MillraceServer
{
    /// <summary>
    /// Opens the projects (their definitions must be valid: <see cref="Definitions.DefinitionException"/> otherwise) and
    /// builds the application. Nothing listens or runs until it is started.
    /// </summary>
    public static async Task<WebApplication> BuildAsync(ServerOptions options, CancellationToken ct = default)
    {
        if (options.ProjectDirectories.Count == 0) throw new ServerStartException("no project to serve: pass --project DIR (or run in a project folder)");
        if (options.MaxConcurrentRuns < 0) throw new ServerStartException("the run limit cannot be negative");
        if (options.DeadlinePollInterval <= TimeSpan.Zero) throw new ServerStartException("the deadline poll interval must be positive");
        if (options.PublicUrl is { } publicUrl && !ServerOptions.IsPublicUrl(publicUrl))
            throw new ServerStartException($"the public URL {ServerOptions.PublicUrlRule}, got '{publicUrl.OriginalString}'");

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(MillraceServer).Assembly.GetName().Name });
        builder.WebHost.UseUrls(options.Urls);
        builder.Logging.ClearProviders();
        var configureLogging = options.ConfigureLogging ?? DefaultLogging;
        configureLogging(builder.Logging);
        // The engine's log (the runs' lines also go to the store) before the container exists.
        var loggerFactory = LoggerFactory.Create(configureLogging);
        var node = options.Node ?? NodeIdentity.Process;
        var hosts = new List<ProjectHost>();
        StoreLock? storeLock = null;
        try
        {
            foreach (var directory in options.ProjectDirectories.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal))
            {
                var host = await ProjectHost.OpenAsync(directory, options.Catalog, loggerFactory.CreateLogger("Millrace"), options.DuckDbThreads,
                    options.Clock, node, options.Faults, ct, options.CreateStore);
                hosts.Add(host);
                if (hosts.Count(h => h.Id == host.Id) > 1)
                    throw new ServerStartException($"two projects have the id '{host.Id}' ({hosts.First(h => h.Id == host.Id).Directory} and {directory}); project ids must differ");
            }
            storeLock = StoreLock.Take(hosts, options.Urls, node, options.Clock);
        }
        catch (Millrace.Storage.StoreUnavailableException e)
        {
            foreach (var host in hosts) await host.DisposeAsync();
            throw new ServerStartException(e.Message);
        }
        catch
        {
            storeLock?.Dispose();
            foreach (var host in hosts) await host.DisposeAsync();
            throw;
        }

        var services = builder.Services;
        services.AddSingleton(options);
        // The host's clock, node identity and crash points: every service takes them from here, none from statics.
        services.AddSingleton(options.Clock);
        services.AddSingleton(node);
        services.AddSingleton(options.Faults);
        services.AddSingleton(_ => new EngineLogging(loggerFactory));
        services.AddSingleton(_ => new ProjectRegistry(hosts));
        var heldLock = storeLock!;
        services.AddSingleton(_ => heldLock);
        services.AddSingleton<Access>();
        services.AddSingleton<WebhookNotifier>();
        services.AddSingleton<RunExecutor>();
        services.AddSingleton<PipelineScheduler>();
        services.AddSingleton<Triggers.LandingWatcher>();
        // Membership starts before the executor (dead nodes' runs are taken over first) and stops after its drain.
        services.AddSingleton<ClusterMembership>();
        services.AddHostedService(provider => provider.GetRequiredService<ClusterMembership>());
        services.AddHostedService<MillraceService>();
        // After the service that starts the webhook loop (and so stopped before it): a miss's deliveries go out.
        services.AddSingleton<DeadlineWatch>();
        services.AddHostedService(provider => provider.GetRequiredService<DeadlineWatch>());
        services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout + TimeSpan.FromSeconds(45));
        if (!options.UseConsoleLifetime) services.AddSingleton<IHostLifetime, QuietLifetime>();
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Millrace";
            document.Info.Description = "Continuous machine learning for .NET: the Sparkflows-compatible Run Pipeline API and the REST API. " +
                "Every call needs a token (header 'token: <TOKEN>' or 'Authorization: Bearer <TOKEN>') made with 'millrace token create'.";
            return Task.CompletedTask;
        }));

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapGet("/healthz", (ProjectRegistry projects, RunExecutor executor, NodeIdentity self, Triggers.LandingWatcher landing) =>
                TypedResults.Ok(new HealthView("ok", projects.All.Select(p => p.Id).ToList(), executor.QueuedCount, executor.RunningCount,
                    self.Owner, projects.All.Any(p => p.Store.Shared),
                    landing.AllStatuses().Where(s => s.LastError is not null).Select(s => $"{s.ProjectId}/{s.Pipeline}").ToList())))
            .WithTags("Health").WithSummary("Liveness: the hosted projects, the executor's queue, this node's id and whether it shares its store with other nodes").Produces<HealthView>();
        SparkflowsEndpoints.Map(app);
        var api = app.MapGroup("/api/v1");
        ProjectEndpoints.Map(api);
        RunEndpoints.Map(api);
        DateEndpoints.Map(api);
        ScheduleEndpoints.Map(api);
        TriggerEndpoints.Map(api);
        DataEndpoints.Map(api);
        ModelEndpoints.Map(api);
        PerformanceEndpoints.Map(api);
        SchemaEndpoints.Map(api);
        Ui.UiEndpoints.Map(app);
        return app;
    }

    static void DefaultLogging(ILoggingBuilder logging)
    {
        logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Quartz", LogLevel.Warning);
    }

    /// <summary>Owns the engine's logger factory so that the container disposes it with the application.</summary>
    sealed class EngineLogging(ILoggerFactory factory) : IDisposable
    {
        public void Dispose() => factory.Dispose();
    }

    /// <summary>The addresses the started application listens on (with the real port when the URL asked for port 0).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    /// <summary>Starts and stops the executor, the scheduler, the landing triggers and the webhook loop in the right order.</summary>
    sealed class MillraceService(RunExecutor executor, PipelineScheduler scheduler, Triggers.LandingWatcher landing, WebhookNotifier notifier, ServerOptions options,
        EngineLogging engineLogging, StoreLock storeLock) : IHostedService
    {
        // Taken so the container creates them, and disposes them with the application.
        readonly EngineLogging _engineLogging = engineLogging;
        readonly StoreLock _storeLock = storeLock;
        bool _schedulerStarted;

        public async Task StartAsync(CancellationToken ct)
        {
            await executor.StartAsync(ct);
            notifier.Start();
            if (options.EnableScheduler)
            {
                await scheduler.StartAsync(ct);
                landing.Start();
                _schedulerStarted = true;
            }
        }

        public async Task StopAsync(CancellationToken ct)
        {
            // No new fires, then let running runs finish (or interrupt them), then flush what notifications can go.
            if (_schedulerStarted)
            {
                await landing.StopAsync();
                await scheduler.StopAsync(CancellationToken.None);
            }
            await executor.StopAsync();
            await notifier.StopAsync();
        }
    }

    /// <summary>A host lifetime that leaves Ctrl-C and SIGTERM alone (the caller stops the host).</summary>
    sealed class QuietLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken ct) => Task.CompletedTask;
        public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
    }
}
