using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Millrace.Server.Ui;

/// <summary>
/// A signed-in browser: the API token it presented (kept on the server, never in the cookie), the per-session CSRF
/// value every form carries, and a message for the next page.
/// </summary>
sealed class UiSession(string id, string tokenText, string tokenId, string projectId, DateTimeOffset now)
{
    UiFlash? _flash;
    long _lastSeenTicks = now.UtcTicks;

    public string Id { get; } = id;
    /// <summary>The token as presented at sign-in; checked again on every request, as the API checks it.</summary>
    public string TokenText { get; } = tokenText;
    /// <summary>The token's public id and project: what the per-token and per-project session limits count by.</summary>
    public string TokenId { get; } = tokenId;
    public string ProjectId { get; } = projectId;
    /// <summary>The value each form posts back in <see cref="UiSessions.CsrfField"/>.</summary>
    public string Csrf { get; } = UiSessions.NewSecret();
    public DateTimeOffset CreatedAt { get; } = now;
    /// <summary>The last request of the session (read and written by concurrent requests).</summary>
    public DateTimeOffset LastSeen
    {
        get => new(Interlocked.Read(ref _lastSeenTicks), TimeSpan.Zero);
        set => Interlocked.Exchange(ref _lastSeenTicks, value.UtcTicks);
    }

    public void Flash(string message, bool error = false) => Interlocked.Exchange(ref _flash, new UiFlash(message, error));

    /// <summary>The pending message, removed.</summary>
    public UiFlash? TakeFlash() => Interlocked.Exchange(ref _flash, null);
}

/// <summary>
/// The UI's sessions, in memory (a restart signs everybody out). The cookie holds only a random session id and is
/// HttpOnly and SameSite=Strict (Secure over HTTPS, also behind a proxy that says so in X-Forwarded-Proto); sessions end after <see cref="IdleTimeout"/> without a request,
/// after <see cref="MaxAge"/>, on sign-out, or as soon as their token stops being valid. A token holds at most
/// <c>perToken</c> sessions and a project at most <c>perProject</c>: a sign-in beyond either limit ends the least recently
/// used session of that token or project, never another project's, so sign-ins cannot push anyone else out.
/// </summary>
sealed class UiSessions(int perToken, int perProject, TimeProvider clock)
{
    public const string CookieName = "millrace_ui";
    /// <summary>The sign-in form's own CSRF value (double submit: a cookie and the same value in the form).</summary>
    public const string LoginCookieName = "millrace_ui_login";
    /// <summary>The name of the hidden field that carries the CSRF value.</summary>
    public const string CsrfField = "csrf";

    public static readonly TimeSpan IdleTimeout = TimeSpan.FromHours(12);
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(7);
    readonly ConcurrentDictionary<string, UiSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>The session of the request's cookie, when there is a live one.</summary>
    public UiSession? Find(HttpContext http)
    {
        var id = http.Request.Cookies[CookieName];
        if (string.IsNullOrEmpty(id) || !_sessions.TryGetValue(id, out var session)) return null;
        var now = clock.GetUtcNow();
        if (Ended(session, now))
        {
            _sessions.TryRemove(id, out _);
            return null;
        }
        session.LastSeen = now;
        return session;
    }

    /// <summary>Starts a session for a token that was just checked, and sets its cookie (a new id at every sign-in).</summary>
    public UiSession Start(HttpContext http, string tokenText, string tokenId, string projectId)
    {
        var now = clock.GetUtcNow();
        var session = new UiSession(NewSecret(), tokenText, tokenId, projectId, now);
        lock (_sessions)
        {
            var project = _sessions.Values.Where(s => s.ProjectId == projectId).ToList();
            foreach (var ended in project.Where(s => Ended(s, now))) _sessions.TryRemove(ended.Id, out _);
            project.RemoveAll(s => Ended(s, now));
            var token = project.Where(s => s.TokenId == tokenId).ToList();
            foreach (var stale in token.OrderBy(s => s.LastSeen).Take(token.Count - perToken + 1)) Evict(stale, project);
            foreach (var stale in project.OrderBy(s => s.LastSeen).Take(project.Count - perProject + 1).ToList()) Evict(stale, project);
            _sessions[session.Id] = session;
        }
        http.Response.Cookies.Append(CookieName, session.Id, Cookie(http, MaxAge));
        return session;
    }

    void Evict(UiSession session, List<UiSession> project)
    {
        _sessions.TryRemove(session.Id, out _);
        project.Remove(session);
    }

    /// <summary>The live sessions (for tests and limits).</summary>
    public int Count => _sessions.Count;

    static bool Ended(UiSession session, DateTimeOffset now) => now - session.LastSeen > IdleTimeout || now - session.CreatedAt > MaxAge;

    /// <summary>Ends a session (a new one replaces its cookie).</summary>
    public void Forget(UiSession? session)
    {
        if (session is not null) _sessions.TryRemove(session.Id, out _);
    }

    /// <summary>Ends a session and clears its cookie.</summary>
    public void End(HttpContext http, UiSession? session)
    {
        if (session is not null) _sessions.TryRemove(session.Id, out _);
        http.Response.Cookies.Delete(CookieName, Cookie(http, null));
    }

    /// <summary>True when the posted form carries the session's CSRF value.</summary>
    public static bool CheckCsrf(UiSession session, IFormCollection form) => SameSecret(form[CsrfField].ToString(), session.Csrf);

    /// <summary>A fresh CSRF value for the sign-in form, also set as a short-lived cookie.</summary>
    public static string LoginChallenge(HttpContext http)
    {
        var value = http.Request.Cookies[LoginCookieName];
        if (value is not { Length: 43 })
        {
            value = NewSecret();
            http.Response.Cookies.Append(LoginCookieName, value, Cookie(http, TimeSpan.FromHours(1)));
        }
        return value;
    }

    /// <summary>True when the sign-in form posted back the value of its cookie.</summary>
    public static bool CheckLoginChallenge(HttpContext http, IFormCollection form)
    {
        var cookie = http.Request.Cookies[LoginCookieName];
        return !string.IsNullOrEmpty(cookie) && SameSecret(form[CsrfField].ToString(), cookie);
    }

    /// <summary>32 random bytes, base64url (43 characters).</summary>
    public static string NewSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    static bool SameSecret(string presented, string expected) =>
        presented.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));

    static CookieOptions Cookie(HttpContext http, TimeSpan? maxAge) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        // Behind a TLS-terminating proxy the request arrives as HTTP; the browser's side is what counts.
        Secure = http.Request.IsHttps || string.Equals(http.Request.Headers["X-Forwarded-Proto"].ToString().Split(',')[0].Trim(), "https", StringComparison.OrdinalIgnoreCase),
        Path = UiUrls.Root,
        MaxAge = maxAge,
        IsEssential = true,
    };
}
