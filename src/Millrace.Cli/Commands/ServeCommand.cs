using System.CommandLine;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Millrace.Definitions;
using Millrace.Server;
using Millrace.Server.Hosting;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace serve [--project DIR …] [--urls URL]</c>: the REST API, the Sparkflows-compatible /executePipeline,
/// the scheduler and the run executor in one process, until Ctrl-C (or SIGTERM) stops it gracefully.
/// </summary>
public static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        var projects = new Argument<string[]>("projects") { Description = "More project folders to serve (besides --project or the current project).", Arity = ArgumentArity.ZeroOrMore };
        var projectFolders = new Option<string[]>("--project", "-p") { Description = "A project folder to serve; repeat it to serve several (default: the current project)." };
        var urls = new Option<string>("--urls") { Description = $"Addresses to listen on, ';'-separated (default {ServerOptions.DefaultUrls}: loopback only).", DefaultValueFactory = _ => ServerOptions.DefaultUrls };
        var maxRuns = new Option<int?>("--max-runs") { Description = "Runs executing at once across projects; more wait in the queue (default: half the cores, at least 1)." };
        var shutdown = new Option<string>("--shutdown-timeout") { Description = "How long running runs get to finish on Ctrl-C before they are recorded interrupted (default 20s).", DefaultValueFactory = _ => "20s" };
        var publicUrl = new Option<string?>("--public-url") { Description = "The address clients reach this server at (e.g. https://millrace.example.com behind a proxy), used in the URLs answers carry (statusUrl); default: the address it listens on." };
        var noScheduler = new Option<bool>("--no-scheduler") { Description = "Do not fire schedules or poll landing triggers (runs start only through the API)." };
        var heartbeat = new Option<string>("--heartbeat") { Description = "How often this node records in the store that it is alive (default 5s).", DefaultValueFactory = _ => "5s" };
        var nodeTimeout = new Option<string>("--node-timeout") { Description = "A node silent for this long is dead and another node resumes its runs (default 30s).", DefaultValueFactory = _ => "30s" };
        var deadlinePoll = new Option<string>("--deadline-poll") { Description = "How often the pipelines' deadline: and freshness: are evaluated (default 30s).", DefaultValueFactory = _ => "30s" };
        var command = new Command("serve", "Serve projects: REST API (/api/v1), Sparkflows-compatible POST /executePipeline, schedules and the run queue.");
        command.Arguments.Add(projects);
        foreach (var option in new Option[] { projectFolders, urls, publicUrl, maxRuns, shutdown, noScheduler, heartbeat, nodeTimeout, deadlinePoll }) command.Options.Add(option);
        command.SetAction(context.Guard(async (parse, ct) =>
        {
            var shutdownTimeout = Duration(parse, shutdown, Durations.ShutdownTimeout);
            var heartbeatInterval = Duration(parse, heartbeat, Durations.Heartbeat);
            var lease = Duration(parse, nodeTimeout, Durations.NodeTimeout);
            var deadlineInterval = Duration(parse, deadlinePoll, Durations.DeadlinePoll);
            if (heartbeatInterval <= TimeSpan.Zero || lease < heartbeatInterval * 2)
                throw new CliException($"--node-timeout ({lease.TotalSeconds:0.###}s) must be at least twice --heartbeat ({heartbeatInterval.TotalSeconds:0.###}s), and the heartbeat above zero", CliApp.UsageError);
            var directories = new List<string>();
            var named = (parse.GetValue(projectFolders) ?? []).Concat(parse.GetValue(projects) ?? []).ToList();
            if (named.Count == 0) directories.Add(context.ProjectDirectory(parse));
            foreach (var directory in named)
            {
                var full = Path.GetFullPath(directory);
                if (!File.Exists(Path.Combine(full, ProjectLoader.ProjectFileName))) throw new CliException($"no {ProjectLoader.ProjectFileName} in {full}", CliApp.UsageError);
                directories.Add(full);
            }
            var options = new ServerOptions
            {
                ProjectDirectories = directories,
                Urls = parse.GetValue(urls)!,
                PublicUrl = PublicUrl(parse.GetValue(publicUrl)),
                MaxConcurrentRuns = parse.GetValue(maxRuns) ?? Math.Max(1, Environment.ProcessorCount / 2),
                ShutdownTimeout = shutdownTimeout,
                HeartbeatInterval = heartbeatInterval,
                NodeTimeout = lease,
                DeadlinePollInterval = deadlineInterval,
                EnableScheduler = !parse.GetValue(noScheduler),
                UseConsoleLifetime = false,
                CreateStore = parse.GetValue(CliContext.CreateStoreOption),
                ConfigureLogging = Logging(parse),
            };
            return await ServeAsync(context, options, null, ct);
        }));
        return command;
    }

    static Uri? PublicUrl(string? text) =>
        text is null ? null
        : Uri.TryCreate(text, UriKind.Absolute, out var uri) && ServerOptions.IsPublicUrl(uri) ? uri
        : throw new CliException($"--public-url {ServerOptions.PublicUrlRule}, got '{text}'", CliApp.UsageError);

    static TimeSpan Duration(ParseResult parse, Option<string> option, DurationBounds bounds) => CliContext.Duration(option.Name, parse.GetValue(option)!, bounds);

    /// <summary>How the server logs: its own lines at information, the engine's with -v, framework noise only when it matters.</summary>
    internal static Action<ILoggingBuilder> Logging(ParseResult parse) => logging =>
    {
        logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Quartz", LogLevel.Warning);
        logging.AddFilter("Millrace", parse.GetValue(CliContext.VerboseOption) ? LogLevel.Information : LogLevel.Warning);
        logging.AddFilter("Millrace.Server", LogLevel.Information);
    };

    /// <summary>
    /// Starts the server, prints where it listens (and <paramref name="banner"/>'s lines once it does), and serves until
    /// <paramref name="ct"/> is cancelled (Ctrl-C); then stops gracefully.
    /// </summary>
    internal static async Task<int> ServeAsync(CliContext context, ServerOptions options, Func<WebApplication, string, Task>? banner, CancellationToken ct)
    {
        foreach (var url in options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (!IsLoopback(url))
                await context.Error.WriteLineAsync($"warning: {url} is not a loopback address: anyone who can reach it can call the API with a token; put TLS in front of it");
        WebApplication app;
        try
        {
            // The server is this process's host too: the same clock, node and crash points as the other commands.
            app = await MillraceServer.BuildAsync(options with { Clock = context.Clock, Node = context.Node, Faults = context.Faults }, ct);
        }
        catch (ServerStartException e)
        {
            throw new CliException(e.Message);
        }
        await using (app)
        {
            try
            {
                await app.StartAsync(ct);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                throw new CliException($"could not listen on {options.Urls}: {e.Message} (pass --urls with another address or port)");
            }
            var address = MillraceServer.Addresses(app) is [var first, ..] ? first : options.Urls;
            var projects = app.Services.GetRequiredService<ProjectRegistry>();
            await context.Output.WriteLineAsync($"Millrace is serving {projects.All.Count} project(s) on {address}");
            foreach (var host in projects.All)
            {
                var schedules = host.Definition.Pipelines.Values.Where(p => p.Schedule is not null).OrderBy(p => p.Name, StringComparer.Ordinal)
                    .Select(p => $"{p.Name} ({p.Schedule!.Cron} {p.Schedule.Timezone})").ToList();
                await context.Output.WriteLineAsync($"  {host.Id}: {host.Definition.Pipelines.Count} pipeline(s); schedules {(options.EnableScheduler ? "active" : "off")}: {(schedules.Count == 0 ? "none" : string.Join(", ", schedules))}");
                var triggers = host.Definition.Pipelines.Values.Where(p => p.Trigger is not null).Select(p => p.Name).Order(StringComparer.Ordinal).ToList();
                if (triggers.Count > 0)
                    await context.Output.WriteLineAsync($"  {host.Id}: landing triggers {(options.EnableScheduler ? "polling" : "off")}: {string.Join(", ", triggers)}");
            }
            await context.Output.WriteLineAsync($"  API {address}/api/v1, OpenAPI {address}/openapi/v1.json, health {address}/healthz");
            if (banner is not null) await banner(app, address);
            await context.Output.WriteLineAsync($"Press Ctrl-C to stop (running runs get {options.ShutdownTimeout.TotalSeconds:0.#}s to finish).");
            await context.Output.FlushAsync(CancellationToken.None);

            var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, lifetime.ApplicationStopping);
            try { await Task.Delay(Timeout.InfiniteTimeSpan, context.Clock, stop.Token); }
            catch (OperationCanceledException) { }
            await context.Output.WriteLineAsync("stopping: waiting for running runs…");
            await app.StopAsync(CancellationToken.None);
            await context.Output.WriteLineAsync("stopped");
        }
        return CliApp.Success;
    }

    static bool IsLoopback(string url)
    {
        if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri)) return false;
        return uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }
}
