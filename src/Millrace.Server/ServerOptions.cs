using Microsoft.Extensions.Logging;
using Millrace.Engine;

namespace Millrace.Server;

/// <summary>How <c>millrace serve</c> runs: which projects, where it listens, and the executor's limits.</summary>
public sealed record ServerOptions
{
    /// <summary>The loopback address the server listens on unless told otherwise.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5080";

    /// <summary>Project folders to host (each with its millrace.yaml); project ids must differ.</summary>
    public required IReadOnlyList<string> ProjectDirectories { get; init; }

    /// <summary>Addresses to listen on, separated by ';'. Loopback by default; use port 0 for any free port.</summary>
    public string Urls { get; init; } = DefaultUrls;

    /// <summary>Runs executing at once across all projects; more wait in the queue. 0 queues runs without starting any.</summary>
    public int MaxConcurrentRuns { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>How long running runs get to finish when the server stops, before they are recorded as interrupted.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Create a project's store when it does not exist even though its lake holds committed data (<c>--create-store</c>);
    /// without it such a project is refused (its store was lost: restore the backup).
    /// </summary>
    public bool CreateStore { get; init; }

    /// <summary>Whether pipeline schedules fire (off: runs start only through the API).</summary>
    public bool EnableScheduler { get; init; } = true;

    /// <summary>The step kinds projects may use (the built-in catalog by default).</summary>
    public StepCatalog Catalog { get; init; } = StepCatalog.Default;

    /// <summary>DuckDB threads per run (null = all cores).</summary>
    public int? DuckDbThreads { get; init; }

    /// <summary>Wait before the first retry of a failed webhook delivery; it doubles with each attempt (at most 10 minutes).</summary>
    public TimeSpan WebhookBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Attempts per webhook delivery before it is recorded as failed.</summary>
    public int WebhookAttempts { get; init; } = 6;

    /// <summary>Timeout of one webhook request.</summary>
    public TimeSpan WebhookTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often this node records in the store that it is alive (and looks for dead nodes' runs to take over).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A node whose last heartbeat is older than this is dead: another node takes over its running runs and resumes
    /// them. Keep it several heartbeats long, so a slow node is not taken for a dead one.
    /// </summary>
    public TimeSpan NodeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the server evaluates the pipelines' <c>deadline:</c> and <c>freshness:</c> (without any run happening).</summary>
    public TimeSpan DeadlinePollInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How far back due times are still evaluated (a server down longer records no older misses); at least two poll
    /// intervals are used whatever is set.
    /// </summary>
    public TimeSpan DeadlineLookback { get; init; } = TimeSpan.FromDays(1);

    /// <summary>With a shared (PostgreSQL) store: how often the executor looks for runs other nodes queued.</summary>
    public TimeSpan QueuePollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The address clients reach this server at (e.g. <c>https://millrace.example.com</c>, behind a proxy), used in the
    /// URLs the API answers with (<c>statusUrl</c>). Null: the address the server listens on. Never the request's
    /// <c>Host</c> header, which the caller chooses.
    /// </summary>
    public Uri? PublicUrl { get; init; }

    /// <summary>What <see cref="PublicUrl"/> must be, for error messages.</summary>
    public const string PublicUrlRule = "must be an absolute http:// or https:// address without a query, such as https://millrace.example.com";

    /// <summary>True when <paramref name="url"/> can be <see cref="PublicUrl"/>.</summary>
    public static bool IsPublicUrl(Uri url) =>
        url.IsAbsoluteUri && url.Scheme is "http" or "https" && url.Query.Length == 0 && url.Fragment.Length == 0 && url.UserInfo.Length == 0;

    /// <summary>
    /// The window of the audit log's bound on calls without a valid token: per project and client address, the first
    /// refused call of a window is recorded, the others are counted into one summary entry at its end.
    /// </summary>
    public TimeSpan RefusalAuditWindow { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Client addresses per project and window whose refused calls get entries of their own; the rest share one summary.</summary>
    public int RefusalAuditClients { get; init; } = 20;

    /// <summary>Web UI sessions one token may hold; a new sign-in beyond it ends that token's least recently used session.</summary>
    public int UiSessionsPerToken { get; init; } = 20;

    /// <summary>Web UI sessions one project may hold; a new sign-in beyond it ends that project's least recently used session.</summary>
    public int UiSessionsPerProject { get; init; } = 1_000;

    /// <summary>Logging configuration (console by default when null).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }

    /// <summary>Let the host stop on Ctrl-C and SIGTERM itself (the CLI); off in tests that host several servers.</summary>
    public bool UseConsoleLifetime { get; init; } = true;

    /// <summary>
    /// The server's clock, registered in the container as <see cref="TimeProvider"/>: schedules, heartbeats, timeouts,
    /// backoffs, token expiry, sessions, audit and run timestamps all read it. Tests pass a fake one.
    /// </summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>
    /// This node's identity in the store and the cluster (default <see cref="NodeIdentity.Process"/>). Tests that host
    /// several servers in one process give each its own (<see cref="NodeIdentity.Named"/>).
    /// </summary>
    public NodeIdentity? Node { get; init; }

    /// <summary>The crash points of the exactly-once tests (default armed nowhere; <c>millrace serve</c> arms them from <c>MILLRACE_FAULT</c>).</summary>
    public FaultInjector Faults { get; init; } = FaultInjector.None;
}
