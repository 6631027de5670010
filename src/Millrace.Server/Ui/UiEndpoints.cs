using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Millrace.Server.Hosting;
using Millrace.Server.Security;
using Millrace.Server.Storage;

namespace Millrace.Server.Ui;

/// <summary>
/// The web UI: server-rendered pages under <c>/ui/</c> (plain HTML, one inline stylesheet, no script) over the same
/// projects, store, executor and scheduler as the API. Sign-in takes an API token; every request checks it again
/// exactly as the API does (<see cref="Access.AuthorizeAsync"/>), actions need the same roles as their API calls
/// and are recorded in the audit log, and every form carries the session's CSRF value.
/// </summary>
public static class UiEndpoints
{
    /// <summary>Maps the UI's pages and actions, and <c>/</c> to the UI.</summary>
    public static void Map(WebApplication app)
    {
        var options = app.Services.GetRequiredService<ServerOptions>();
        var ui = new UiHandlers(new UiSessions(options.UiSessionsPerToken, options.UiSessionsPerProject, app.Services.GetRequiredService<TimeProvider>()));
        app.MapGet("/", () => Results.Redirect(UiUrls.Root + "/")).ExcludeFromDescription();
        app.MapGet("/favicon.ico", () => Results.Text(Icon, "image/svg+xml")).ExcludeFromDescription();
        var root = app.MapGroup(UiUrls.Root).ExcludeFromDescription();
        root.MapGet("/", Handler(http => ui.HomeAsync(http)));
        root.MapGet("/login", Handler(http => ui.LoginPageAsync(http)));
        root.MapPost("/login", Handler(http => ui.LoginAsync(http)));
        root.MapPost("/logout", Handler(http => ui.LogoutAsync(http)));
        root.MapGet("/projects", Handler(http => ui.PageAsync(http, null, ProjectPages.ListAsync)));

        var project = root.MapGroup("/projects/{projectId}");
        project.MapGet("/", (HttpContext http, string projectId) => ui.PageAsync(http, projectId, ProjectPages.OverviewAsync));

        project.MapGet("/pipelines", (HttpContext http, string projectId) => ui.PageAsync(http, projectId, PipelinePages.ListAsync));
        project.MapGet("/pipelines/{name}", (HttpContext http, string projectId, string name) => ui.PageAsync(http, projectId, r => PipelinePages.ShowAsync(r, name)));
        project.MapPost("/pipelines/{name}/run", (HttpContext http, string projectId, string name) =>
            ui.ActionAsync(http, projectId, TokenRole.Runner, (r, form) => PipelinePages.RunAsync(r, name, form)));

        project.MapGet("/runs", (HttpContext http, string projectId) => ui.PageAsync(http, projectId, RunPages.ListAsync));
        project.MapGet("/runs/{runId}", (HttpContext http, string projectId, string runId) => ui.PageAsync(http, projectId, r => RunPages.ShowAsync(r, runId)));
        project.MapPost("/runs/{runId}/cancel", (HttpContext http, string projectId, string runId) =>
            ui.ActionAsync(http, projectId, TokenRole.Runner, (r, _) => RunPages.CancelAsync(r, runId)));
        project.MapPost("/runs/{runId}/retry", (HttpContext http, string projectId, string runId) =>
            ui.ActionAsync(http, projectId, TokenRole.Runner, (r, _) => RunPages.AgainAsync(r, runId, retry: true)));
        project.MapPost("/runs/{runId}/rerun", (HttpContext http, string projectId, string runId) =>
            ui.ActionAsync(http, projectId, TokenRole.Runner, (r, _) => RunPages.AgainAsync(r, runId, retry: false)));

        project.MapGet("/schedules", (HttpContext http, string projectId) => ui.PageAsync(http, projectId, SchedulePages.ListAsync));
        // The same roles as the API: pausing and resuming is for admins, running a schedule now for runners.
        project.MapPost("/schedules/{pipeline}/pause", (HttpContext http, string projectId, string pipeline) =>
            ui.ActionAsync(http, projectId, TokenRole.Admin, (r, form) => SchedulePages.ChangeAsync(r, pipeline, pause: true, form)));
        project.MapPost("/schedules/{pipeline}/resume", (HttpContext http, string projectId, string pipeline) =>
            ui.ActionAsync(http, projectId, TokenRole.Admin, (r, form) => SchedulePages.ChangeAsync(r, pipeline, pause: false, form)));
        project.MapPost("/schedules/{pipeline}/run", (HttpContext http, string projectId, string pipeline) =>
            ui.ActionAsync(http, projectId, TokenRole.Runner, (r, form) => SchedulePages.RunNowAsync(r, pipeline, form)));

        project.MapGet("/models", (HttpContext http, string projectId) => ui.PageAsync(http, projectId, ModelPages.ListAsync));
        project.MapGet("/models/{name}", (HttpContext http, string projectId, string name) => ui.PageAsync(http, projectId, r => ModelPages.ShowAsync(r, name)));
        project.MapPost("/models/{name}/promote", (HttpContext http, string projectId, string name) =>
            ui.ActionAsync(http, projectId, TokenRole.Admin, (r, form) => ModelPages.PromoteAsync(r, name, form)));
        project.MapPost("/models/{name}/rollback", (HttpContext http, string projectId, string name) =>
            ui.ActionAsync(http, projectId, TokenRole.Admin, (r, _) => ModelPages.RollbackAsync(r, name)));

        project.MapGet("/datasets", (HttpContext http, string projectId) => ui.PageAsync(http, projectId, DatasetPages.ListAsync));
        project.MapGet("/datasets/{name}", (HttpContext http, string projectId, string name) => ui.PageAsync(http, projectId, r => DatasetPages.ShowAsync(r, name)));

        project.MapGet("/anomalies", (HttpContext http, string projectId) => ui.PageAsync(http, projectId, AnomalyPages.ListAsync));

        project.MapGet("/reports", (HttpContext http, string projectId) => ui.PageAsync(http, projectId, ReportPages.ListAsync));
        project.MapGet("/reports/{name}", (HttpContext http, string projectId, string name) => ui.PageAsync(http, projectId, r => ReportPages.HistoryAsync(r, name)));
        project.MapGet("/reports/{name}/{date}/{file?}", (HttpContext http, string projectId, string name, string date, string? file) =>
            ui.FileAsync(http, projectId, r => ReportPages.FileAsync(r, name, date, file)));
    }

    /// <summary>The browser tab's icon (browsers ask for it on every page, reports included).</summary>
    const string Icon = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#17324d"/><path d="M7 24V9l9 9 9-9v15" fill="none" stroke="#7fb3e6" stroke-width="3.2" stroke-linejoin="round" stroke-linecap="round"/></svg>""";

    /// <summary>A handler taking only the context, typed so that its result is written (not a RequestDelegate).</summary>
    static Delegate Handler(Func<HttpContext, Task<IResult>> handler) => handler;
}

/// <summary>Sign-in, sign-out, and the checks every page and action goes through.</summary>
sealed class UiHandlers(UiSessions sessions)
{
    /// <summary>Pages may not load anything from elsewhere, run script, be framed, or post anywhere else.</summary>
    const string PagePolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>A published report: its inline styles and SVG, nothing else (no script even if a report carried one).</summary>
    const string ReportPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'none'; frame-ancestors 'self'; base-uri 'none'";

    public async Task<IResult> HomeAsync(HttpContext http)
    {
        Harden(http, PagePolicy);
        var session = sessions.Find(http);
        if (session is null) return SeeOther(UiUrls.Login);
        var (request, refusal) = await AuthorizeAsync(http, null, TokenRole.Viewer);
        return refusal ?? SeeOther(UiUrls.Project(request!.Host.Id) + "/");
    }

    public async Task<IResult> LoginPageAsync(HttpContext http)
    {
        Harden(http, PagePolicy);
        var next = http.Request.Query["next"].ToString();
        if (sessions.Find(http) is not null)
        {
            var (request, refusal) = await AuthorizeAsync(http, null, TokenRole.Viewer);
            if (refusal is null) return SeeOther(UiUrls.IsLocal(next) ? next : UiUrls.Project(request!.Host.Id) + "/");
        }
        var message = http.Request.Query.ContainsKey("expired") ? "Your session ended; sign in again." : null;
        return LoginPage(http, message, next, StatusCodes.Status200OK);
    }

    public async Task<IResult> LoginAsync(HttpContext http)
    {
        Harden(http, PagePolicy);
        if (CrossSite(http)) return Error(http, null, StatusCodes.Status403Forbidden, "Refused", "This form was posted from another site.");
        var (form, formStatus, formProblem) = await UiForm.ReadAsync(http);
        if (form is null) return Error(http, null, formStatus, "Bad request", formProblem);
        var next = form["next"].ToString();
        if (!UiSessions.CheckLoginChallenge(http, form))
            return LoginPage(http, "The sign-in form had expired; enter the token again.", next, StatusCodes.Status400BadRequest);
        var token = form["token"].ToString().Trim();
        if (token.Length == 0) return LoginPage(http, "Enter an API token.", next, StatusCodes.Status400BadRequest);

        UsePresentedToken(http, token);
        var access = http.RequestServices.GetRequiredService<Access>();
        var (_, problem) = await access.AuthorizeAsync(http, null, TokenRole.Viewer, http.RequestAborted);
        if (problem is not null)
        {
            var (status, detail) = Describe(problem);
            Access.Audit(http, "web UI sign-in", new { via = "web UI" });
            await access.AuditAsync(http, null, status);
            return LoginPage(http, detail, next, status);
        }
        var caller = Access.CallerOf(http);
        sessions.Forget(sessions.Find(http));
        var session = sessions.Start(http, token, caller.Token.Id, caller.Host.Id);
        http.Response.Cookies.Delete(UiSessions.LoginCookieName, new CookieOptions { Path = UiUrls.Root });
        Access.Audit(http, "web UI session", new { via = "web UI" });
        await access.AuditAsync(http, null, StatusCodes.Status200OK);
        session.Flash($"Signed in to {caller.Host.Definition.Name} as {UiLayout.Role(caller.Token.Role)}.");
        return SeeOther(UiUrls.IsLocal(next) ? next : UiUrls.Project(caller.Host.Id) + "/");
    }

    public async Task<IResult> LogoutAsync(HttpContext http)
    {
        Harden(http, PagePolicy);
        var session = sessions.Find(http);
        if (session is null) return SeeOther(UiUrls.Login);
        var (form, status, problem) = await UiForm.ReadAsync(http);
        if (form is null) return Error(http, null, status, "Bad request", problem);
        if (CrossSite(http) || !UiSessions.CheckCsrf(session, form))
            return Error(http, null, StatusCodes.Status403Forbidden, "Refused", "The sign-out form is out of date; reload the page and try again.");
        sessions.End(http, session);
        return SeeOther(UiUrls.Login);
    }

    /// <summary>A page: the token must be valid for the project (any role sees).</summary>
    public async Task<IResult> PageAsync(HttpContext http, string? projectId, Func<UiRequest, Task<UiPage>> render)
    {
        Harden(http, PagePolicy);
        var (request, refusal) = await AuthorizeAsync(http, projectId, TokenRole.Viewer);
        if (refusal is not null) return refusal;
        return Respond(http, request, await render(request!));
    }

    /// <summary>A file of the lake shown as it is (a published report), with a stricter policy than the UI's pages.</summary>
    public async Task<IResult> FileAsync(HttpContext http, string projectId, Func<UiRequest, Task<UiFile>> serve)
    {
        Harden(http, PagePolicy);
        var (request, refusal) = await AuthorizeAsync(http, projectId, TokenRole.Viewer);
        if (refusal is not null) return refusal;
        var file = await serve(request!);
        if (file.Result is null) return Respond(http, request, file.Page!);
        http.Response.Headers.ContentSecurityPolicy = ReportPolicy;
        return file.Result;
    }

    /// <summary>
    /// An action (a POST form): the token must have <paramref name="role"/> for the project, the form must carry the
    /// session's CSRF value, and the outcome is recorded in the audit log like the API call it mirrors.
    /// </summary>
    public async Task<IResult> ActionAsync(HttpContext http, string projectId, TokenRole role, Func<UiRequest, IFormCollection, Task<UiOutcome>> act)
    {
        Harden(http, PagePolicy);
        var access = http.RequestServices.GetRequiredService<Access>();
        var (request, refusal) = await AuthorizeAsync(http, projectId, role);
        if (refusal is not null)
        {
            if (http.Items.ContainsKey("millrace.ui.authorized")) await access.AuditAsync(http, projectId, refusal is IStatusCodeHttpResult { StatusCode: { } code } ? code : StatusCodes.Status403Forbidden);
            return refusal;
        }
        var (form, status, problem) = await UiForm.ReadAsync(http);
        if (form is null)
        {
            await access.AuditAsync(http, projectId, status);
            return Error(http, request, status, "Bad request", problem);
        }
        if (CrossSite(http) || !UiSessions.CheckCsrf(request!.Session, form))
        {
            await access.AuditAsync(http, projectId, StatusCodes.Status403Forbidden);
            return Error(http, request, StatusCodes.Status403Forbidden, "Refused", "This form is out of date or came from another site; reload the page and try again.");
        }
        UiOutcome outcome;
        try
        {
            outcome = await act(request, form);
        }
        catch (Exception)
        {
            await access.AuditAsync(http, projectId, StatusCodes.Status500InternalServerError);
            throw;
        }
        await access.AuditAsync(http, projectId, outcome.AuditStatus);
        request.Session.Flash(outcome.Message, outcome.Error);
        return SeeOther(outcome.Location);
    }

    /// <summary>
    /// Checks the session's token as the API checks a token (unknown, revoked, expired: signed out; another project
    /// or too small a role: refused) and returns the request, or the page that refuses it.
    /// </summary>
    async Task<(UiRequest? Request, IResult? Refusal)> AuthorizeAsync(HttpContext http, string? projectId, TokenRole role)
    {
        var session = sessions.Find(http);
        var here = http.Request.Path + http.Request.QueryString;
        if (session is null)
            return (null, HttpMethods.IsGet(http.Request.Method)
                ? SeeOther(UiUrls.Login + UiUrls.Query(("next", here)))
                : SeeOther(UiUrls.Login + "?expired=1"));
        UsePresentedToken(http, session.TokenText);
        var access = http.RequestServices.GetRequiredService<Access>();
        var (caller, problem) = await access.AuthorizeAsync(http, projectId, role, http.RequestAborted);
        http.Items["millrace.ui.authorized"] = true;
        if (problem is null) return (new UiRequest(http, session, Access.CallerOf(http)), null);
        var (status, detail) = Describe(problem);
        if (status == StatusCodes.Status401Unauthorized || caller is null)
        {
            sessions.End(http, session);
            return (null, LoginPage(http, detail + ". Sign in with a valid token.", HttpMethods.IsGet(http.Request.Method) ? here : null, StatusCodes.Status401Unauthorized));
        }
        var request = new UiRequest(http, session, caller);
        return (request, Error(http, request, status, status == StatusCodes.Status404NotFound ? "Not found" : "Not allowed", detail));
    }

    /// <summary>The UI checks the token of the session, never one sent with the request.</summary>
    static void UsePresentedToken(HttpContext http, string token)
    {
        http.Request.Headers.Remove("Authorization");
        http.Request.Headers["token"] = token;
    }

    /// <summary>
    /// A form posted from another site: browsers say so in Sec-Fetch-Site; older ones only send Origin, whose host must
    /// then be this server's (as the browser sees it: behind a proxy, X-Forwarded-Host). The CSRF value is checked too.
    /// </summary>
    static bool CrossSite(HttpContext http)
    {
        var site = http.Request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0) return site is not ("same-origin" or "none");
        var origin = http.Request.Headers.Origin.ToString();
        if (origin.Length == 0 || origin == "null") return false;
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)) return true;
        var forwarded = http.Request.Headers["X-Forwarded-Host"].ToString();
        return !string.Equals(uri.Authority, http.Request.Host.Value, StringComparison.OrdinalIgnoreCase)
            && !(forwarded.Length > 0 && string.Equals(uri.Authority, forwarded.Split(',')[0].Trim(), StringComparison.OrdinalIgnoreCase));
    }

    static (int Status, string Detail) Describe(IResult problem) => problem switch
    {
        ProblemHttpResult p => (p.StatusCode, p.ProblemDetails.Detail ?? p.ProblemDetails.Title ?? "refused"),
        IStatusCodeHttpResult { StatusCode: { } code } => (code, "refused"),
        _ => (StatusCodes.Status403Forbidden, "refused"),
    };

    static void Harden(HttpContext http, string policy)
    {
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = policy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "SAMEORIGIN";
        headers["Referrer-Policy"] = "same-origin";
        headers.CacheControl = "no-store";
    }

    IResult Respond(HttpContext http, UiRequest? request, UiPage page) =>
        Results.Content(UiLayout.Document(page, request, request?.Session.TakeFlash()), "text/html; charset=utf-8", Encoding.UTF8, page.StatusCode);

    IResult Error(HttpContext http, UiRequest? request, int status, string title, string detail) =>
        Respond(http, request, new UiPage(title, Html.Of($"<h1>{title}</h1><p class=\"error-text\">{detail}</p><p><a href=\"{(request is null ? UiUrls.Root + "/" : UiUrls.Project(request.Host.Id) + "/")}\">Back to the project</a></p>"), StatusCode: status));

    IResult LoginPage(HttpContext http, string? message, string? next, int status)
    {
        var challenge = UiSessions.LoginChallenge(http);
        var body = Html.Of($"""
            <div class="login card">
              <h1>Sign in</h1>
              <p>Paste an API token of the project. <span class="muted">Make one with <code>millrace token create --role viewer|runner|admin</code>; viewers see, runners also start, cancel and retry runs, admins also pause schedules and promote or roll back models.</span></p>
              {(message is null ? Html.Empty : Html.Of($"<p class=\"flash error\" role=\"alert\">{message}</p>"))}
              <form method="post" action="{UiUrls.Login}">
                <input type="hidden" name="{UiSessions.CsrfField}" value="{challenge}">
                <input type="hidden" name="next" value="{(UiUrls.IsLocal(next) ? next : "")}">
                <label for="token">API token</label>
                <input type="password" id="token" name="token" autocomplete="off" spellcheck="false" placeholder="mr_…" required autofocus>
                <button type="submit">Sign in</button>
              </form>
            </div>
            """);
        return Respond(http, null, new UiPage("Sign in", body, StatusCode: status));
    }

    static IResult SeeOther(string location) => new SeeOtherResult(location);

    /// <summary>303: after a form, the browser GETs the next page (so reloading it does not post again).</summary>
    sealed class SeeOtherResult(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = StatusCodes.Status303SeeOther;
            http.Response.Headers.Location = location;
            return Task.CompletedTask;
        }
    }
}
