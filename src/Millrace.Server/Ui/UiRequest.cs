using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Millrace.Server.Hosting;
using Millrace.Server.Security;
using Millrace.Storage;

namespace Millrace.Server.Ui;

/// <summary>A request from a signed-in browser whose token passed the API's checks for the project and the role.</summary>
sealed class UiRequest(HttpContext http, UiSession session, Caller caller)
{
    public HttpContext Http { get; } = http;
    public UiSession Session { get; } = session;
    public Caller Caller { get; } = caller;
    /// <summary>The project the page is about.</summary>
    public ProjectHost Host => Caller.Host;
    public TokenRole Role => Caller.Token.Role;
    public CancellationToken Aborted => Http.RequestAborted;

    /// <summary>Who the store records for what this browser does (the token, marked as coming through the UI).</summary>
    public string Actor => $"{Caller.Actor} via web UI";

    /// <summary>The hidden field every form of the session carries.</summary>
    public Html CsrfField => Html.Of($"<input type=\"hidden\" name=\"{UiSessions.CsrfField}\" value=\"{Session.Csrf}\">");

    public T Service<T>() where T : notnull => Http.RequestServices.GetRequiredService<T>();

    public string? Query(string name) => Http.Request.Query[name].ToString() is { Length: > 0 } value ? value : null;
}

/// <summary>What an action did: where to go next, the message to show there, and the status its audit entry records.</summary>
/// <param name="Location">The page to redirect to (303).</param>
/// <param name="Message">What happened, shown once on that page.</param>
/// <param name="Error">Whether it failed.</param>
/// <param name="AuditStatus">The status the equivalent API call would answer, for the audit log.</param>
sealed record UiOutcome(string Location, string Message, bool Error = false, int AuditStatus = StatusCodes.Status200OK)
{
    public static UiOutcome Failed(string location, string message, int status) => new(location, message, true, status);
}
