using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Millrace.Server.Api;
using Millrace.Server.Hosting;
using Millrace.Server.Storage;

namespace Millrace.Server.Security;

/// <summary>Who is calling: the token (its id is the actor in the audit log) and the project it belongs to.</summary>
public sealed record Caller(ApiToken Token, ProjectHost Host)
{
    /// <summary>How the audit log names the caller.</summary>
    public string Actor => Token.Name is null ? $"token:{Token.Id}" : $"token:{Token.Id} ({Token.Name})";
}

/// <summary>
/// Token checks and the audit log. A token comes in the <c>token</c> header (as Sparkflows sends it) or as
/// <c>Authorization: Bearer</c>. Missing, malformed, unknown, wrong, revoked or expired tokens get 401; a valid token for
/// another project, or whose role does not allow the call, gets 403. Every call that changes state is recorded in the
/// audit log of its project, allowed or not: who, what, on what, when and how it ended; so is every read that presented
/// a token that did not pass. What calls without a valid token write is bounded (<see cref="RefusalAudit"/>).
/// </summary>
public sealed class Access : IAsyncDisposable
{
    const string CallerKey = "millrace.caller";
    const string AuditTargetKey = "millrace.audit.target";
    const string AuditDetailsKey = "millrace.audit.details";
    const string UserNameKey = "millrace.audit.user";
    const string RefusalKey = "millrace.audit.refusal";

    readonly ProjectRegistry _projects;
    readonly ILogger<Access> _logger;
    readonly TimeProvider _clock;
    readonly RefusalAudit _refusals;
    readonly ITimer _flush;

    /// <summary>Why a call without a valid token was refused, and which token it presented (when its id is known).</summary>
    sealed record Refusal(string Reason, ProjectHost? TokenHome, string? Actor);

    public Access(ProjectRegistry projects, ServerOptions options, TimeProvider clock, ILogger<Access> logger)
    {
        _projects = projects;
        _logger = logger;
        _clock = clock;
        _refusals = new RefusalAudit(options.RefusalAuditWindow, Math.Max(1, options.RefusalAuditClients));
        _flush = clock.CreateTimer(_ => _ = FlushAsync(all: false), null, options.RefusalAuditWindow, options.RefusalAuditWindow);
    }

    /// <summary>The caller of an endpoint that passed <see cref="AccessEndpointExtensions.RequireRole{TBuilder}"/>.</summary>
    public static Caller CallerOf(HttpContext http) => (Caller)http.Items[CallerKey]!;

    /// <summary>Names what a call acted on and adds details for its audit entry.</summary>
    public static void Audit(HttpContext http, string target, object? details = null, string? userName = null)
    {
        http.Items[AuditTargetKey] = target;
        if (details is not null) http.Items[AuditDetailsKey] = details;
        if (userName is not null) http.Items[UserNameKey] = userName;
    }

    /// <summary>
    /// Checks the token for a call on <paramref name="projectId"/> (or the token's own project when null). A read
    /// (GET, HEAD) that presented a token which did not pass is audited here; state-changing calls are audited by
    /// their caller (<see cref="AuditAsync"/>) with the answer's status.
    /// </summary>
    public async Task<(Caller? Caller, IResult? Problem)> AuthorizeAsync(HttpContext http, string? projectId, TokenRole needed, CancellationToken ct)
    {
        var (caller, problem) = await CheckAsync(http, projectId, needed, ct);
        if (caller is null && http.Items[RefusalKey] is Refusal { Reason: not "missing token" } && IsRead(http))
            await AuditAsync(http, projectId, StatusCodes.Status401Unauthorized);
        return (caller, problem);
    }

    async Task<(Caller? Caller, IResult? Problem)> CheckAsync(HttpContext http, string? projectId, TokenRole needed, CancellationToken ct)
    {
        var text = TokenText(http.Request);
        if (text is null)
            return Refuse(http, "missing token", null, null, "missing token: send it as the header 'token: <TOKEN>' or 'Authorization: Bearer <TOKEN>' (create one with 'millrace token create --role runner')");
        if (!ApiTokens.TryParse(text, out var id, out var secret))
            return Refuse(http, "malformed token", null, null, "malformed token: a Millrace token looks like mr_<16 hex digits>_<secret>");
        var found = await _projects.FindTokenAsync(id, ct);
        if (found is not { } home || !ApiTokens.Verify(home.Token, secret))
            return Refuse(http, found is null ? "unknown token" : $"wrong secret for token {id}", found?.Host, null, "invalid token: no token with that id and secret (see 'millrace token list')");
        var token = home.Token;
        var actor = new Caller(token, home.Host).Actor;
        if (token.RevokedAt is not null) return Refuse(http, "revoked token", home.Host, actor, $"token {token.Id} was revoked on {token.RevokedAt:yyyy-MM-dd HH:mm}Z");
        if (token.ExpiresAt is { } expires && expires <= _clock.GetUtcNow()) return Refuse(http, "expired token", home.Host, actor, $"token {token.Id} expired on {expires:yyyy-MM-dd HH:mm}Z");
        var caller = new Caller(token, home.Host);
        http.Items[CallerKey] = caller;
        Touch(home.Host, token);

        var host = projectId is null ? home.Host : _projects.Find(projectId);
        if (host is null) return (caller, Problems.NotFound($"no project '{RefusalAudit.Bound(projectId)}' on this server (projects: {_projects.Names})"));
        if (host.Id != token.ProjectId)
            return (caller, Problems.Forbidden($"token {token.Id} is for project '{token.ProjectId}', not '{host.Id}'"));
        if (token.Role < needed)
            return (caller, Problems.Forbidden($"token {token.Id} has the role {Name(token.Role)}, which may not do this; it needs {Name(needed)}{(needed == TokenRole.Admin ? "" : " or admin")}"));
        http.Items[CallerKey] = caller with { Host = host };
        return (caller, null);
    }

    static (Caller?, IResult?) Refuse(HttpContext http, string reason, ProjectHost? tokenHome, string? actor, string detail)
    {
        http.Items[RefusalKey] = new Refusal(reason, tokenHome, actor);
        return (null, Unauthorized(http, detail));
    }

    /// <summary>
    /// Writes the audit entry of a call to the store of the project it named, else of the caller's (or presented
    /// token's) project, else, for a call without a valid token that names no project (a UI sign-in), of every hosted
    /// project. A call naming a project this server does not host without a valid token is not recorded. Calls without a
    /// valid token go through <see cref="RefusalAudit"/>; every recorded text is bounded.
    /// </summary>
    public async Task AuditAsync(HttpContext http, string? projectId, int outcome)
    {
        var caller = http.Items[CallerKey] as Caller;
        var refusal = caller is null ? http.Items[RefusalKey] as Refusal : null;
        var named = projectId is null ? null : _projects.Find(projectId);
        IReadOnlyList<ProjectHost> hosts = named is not null ? [named]
            : projectId is not null && caller is null ? []
            : caller is not null ? [caller.Host]
            : refusal?.TokenHome is { } home ? [home]
            : _projects.All;
        var endpoint = http.GetEndpoint() as RouteEndpoint;
        object? details = http.Items[AuditDetailsKey];
        if (refusal is not null)
            details = details is null ? new { refused = refusal.Reason } : new { refused = refusal.Reason, call = details };
        foreach (var host in hosts)
        {
            var entry = new AuditEntry
            {
                At = _clock.GetUtcNow(),
                ProjectId = host.Id,
                Actor = RefusalAudit.Bound(caller?.Actor ?? refusal?.Actor ?? "anonymous")!,
                UserName = RefusalAudit.Bound(http.Items[UserNameKey] as string),
                Action = RefusalAudit.Bound($"{http.Request.Method} {endpoint?.RoutePattern.RawText ?? http.Request.Path}")!,
                Target = RefusalAudit.Bound(http.Items[AuditTargetKey] as string ?? Target(http)),
                Outcome = outcome,
                DetailsJson = RefusalAudit.Details(details),
                RemoteAddress = http.Connection.RemoteIpAddress?.ToString(),
            };
            var due = new List<AuditEntry>();
            var write = caller is not null || _refusals.Admit(entry, refusal?.Reason ?? "", due);
            foreach (var summary in due) await WriteAsync(summary, rethrow: false);
            if (write) await WriteAsync(entry, rethrow: true);
        }
    }

    /// <summary>Writes the summaries of refused calls whose window has ended (all of them when stopping).</summary>
    async Task FlushAsync(bool all)
    {
        foreach (var summary in _refusals.TakeDue(_clock.GetUtcNow(), all)) await WriteAsync(summary, rethrow: false);
    }

    async Task WriteAsync(AuditEntry entry, bool rethrow)
    {
        if (entry.ProjectId is not { } id || _projects.Find(id) is not { } host) return;
        try
        {
            await host.ServerStore.AddAuditAsync(entry, CancellationToken.None);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "could not write the audit entry {Action} by {Actor}", entry.Action, entry.Actor);
            if (rethrow) throw;
        }
    }

    /// <summary>Stops the summary timer and writes the summaries still open.</summary>
    public async ValueTask DisposeAsync()
    {
        await _flush.DisposeAsync();
        await FlushAsync(all: true);
    }

    static bool IsRead(HttpContext http) => HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method);

    static string? Target(HttpContext http)
    {
        var values = http.Request.RouteValues.Where(v => v.Key != "projectId").Select(v => $"{v.Key}={v.Value}").ToList();
        var pipeline = http.Request.Query["pipelineName"].ToString();
        if (pipeline.Length > 0) values.Add($"pipeline={pipeline}");
        return values.Count == 0 ? null : string.Join(' ', values);
    }

    static string? TokenText(HttpRequest request)
    {
        var header = request.Headers["token"].ToString();
        if (header.Length > 0) return header;
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : null;
    }

    static IResult Unauthorized(HttpContext http, string detail)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.Create(StatusCodes.Status401Unauthorized, "Unauthorized", detail);
    }

    static string Name(TokenRole role) => role.ToString().ToLowerInvariant();

    readonly Dictionary<string, DateTimeOffset> _touched = new(StringComparer.Ordinal);

    // Last use is informational: written at most once a minute per token, off the request path.
    void Touch(ProjectHost host, ApiToken token)
    {
        var now = _clock.GetUtcNow();
        lock (_touched)
        {
            if (_touched.TryGetValue(token.Id, out var last) && now - last < TimeSpan.FromMinutes(1)) return;
            _touched[token.Id] = now;
        }
        _ = Task.Run(async () =>
        {
            try { await host.ServerStore.TouchTokenAsync(token.Id, now, CancellationToken.None); }
            catch (Exception e) { _logger.LogWarning(e, "could not record the last use of token {Token}", token.Id); }
        });
    }
}

/// <summary>Puts endpoints behind a token role (and the audit log for calls that change state).</summary>
public static class AccessEndpointExtensions
{
    /// <summary>Requires a token of at least <paramref name="role"/> for the project the route or query names.</summary>
    public static TBuilder RequireRole<TBuilder>(this TBuilder builder, TokenRole role) where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var access = http.RequestServices.GetRequiredService<Access>();
            var projectId = http.GetRouteValue("projectId") as string ?? NullIfEmpty(http.Request.Query["projectId"].ToString());
            var changesState = !(HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method));
            var (_, problem) = await access.AuthorizeAsync(http, projectId, role, http.RequestAborted);
            object? result;
            if (problem is not null) result = problem;
            else
            {
                try
                {
                    result = await next(context);
                }
                catch (Exception) when (changesState)
                {
                    await access.AuditAsync(http, projectId, StatusCodes.Status500InternalServerError);
                    throw;
                }
            }
            if (changesState) await access.AuditAsync(http, projectId, result is IStatusCodeHttpResult { StatusCode: { } code } ? code : StatusCodes.Status200OK);
            return result;
        });
        return builder;
    }

    static string? NullIfEmpty(string text) => text.Length == 0 ? null : text;
}
