using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Millrace.Server.Hosting;
using Millrace.Server.Security;
using Millrace.Server.Storage;

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

/// <summary>
/// Reads the form a UI action posts, bounded, and never throws for what a client sends: a body that is not a form, too
/// large or malformed gets its 4xx and a sentence for the error page. Actions read it after the token check.
/// </summary>
static class UiForm
{
    /// <summary>The largest form read (the UI's forms are a few short fields).</summary>
    public const int MaxBytes = 64 * 1024;

    static readonly FormOptions Limits = new()
    {
        ValueCountLimit = 64,
        KeyLengthLimit = 256,
        ValueLengthLimit = MaxBytes,
        MultipartBodyLengthLimit = MaxBytes,
        MultipartHeadersLengthLimit = 4 * 1024,
    };

    public static async Task<(IFormCollection? Form, int Status, string Problem)> ReadAsync(HttpContext http)
    {
        var request = http.Request;
        if (!request.HasFormContentType)
            return (null, StatusCodes.Status415UnsupportedMediaType, "This address takes a form posted by the web UI (application/x-www-form-urlencoded), not this content type.");
        if (request.ContentLength > MaxBytes)
            return (null, StatusCodes.Status413PayloadTooLarge, $"The form is larger than {MaxBytes / 1024} KiB.");
        try
        {
            return (await request.ReadFormAsync(Limits, http.RequestAborted), StatusCodes.Status200OK, "");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, StatusCodes.Status413PayloadTooLarge, $"The form is larger than {MaxBytes / 1024} KiB.");
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or InvalidOperationException or IOException)
        {
            // Form limits (too many or too long fields), a malformed multipart body, a broken upload.
            return (null, StatusCodes.Status400BadRequest, "The form could not be read; reload the page and try again.");
        }
    }
}
