using System.Net;
using Millrace.Server.Storage;

namespace Millrace.Server.Tests.Ui;

/// <summary>Signing in with a token, the session cookie, and what ends a session.</summary>
[Collection(UiCollection.Name)]
public sealed class UiSignInTests(UiServerFixture fixture)
{
    [Fact]
    public async Task Pages_send_a_browser_without_a_session_to_sign_in_and_back()
    {
        using var client = fixture.Client();
        var (root, _) = await client.GetAsync("/");
        Assert.Equal("/ui/", root.Headers.Location?.OriginalString);
        var (home, _) = await client.GetAsync("/ui/");
        Assert.Equal(HttpStatusCode.SeeOther, home.StatusCode);
        Assert.Equal("/ui/login", home.Headers.Location?.OriginalString);
        var (page, _) = await client.GetAsync("/ui/projects/uishop/runs?status=failed");
        Assert.Equal(HttpStatusCode.SeeOther, page.StatusCode);
        Assert.Equal("/ui/login?next=%2Fui%2Fprojects%2Fuishop%2Fruns%3Fstatus%3Dfailed", page.Headers.Location?.OriginalString);

        var (login, form) = await client.GetAsync("/ui/login?next=%2Fui%2Fprojects%2Fuishop%2Fruns%3Fstatus%3Dfailed");
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var (signedIn, _) = await client.PostAsync("/ui/login", [new("csrf", UiClient.Csrf(form)), new("token", fixture.Viewer), new("next", "/ui/projects/uishop/runs?status=failed")]);
        Assert.Equal(HttpStatusCode.SeeOther, signedIn.StatusCode);
        Assert.Equal("/ui/projects/uishop/runs?status=failed", signedIn.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task The_session_cookie_is_http_only_and_same_site_strict_and_does_not_hold_the_token()
    {
        using var client = fixture.Client();
        var response = await client.SignInAsync(fixture.Viewer);
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("/ui/projects/uishop/", response.Headers.Location?.OriginalString);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("millrace_ui=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/ui", cookie, StringComparison.OrdinalIgnoreCase);
        // mr_<16 hex id>_<secret>: the secret is base64url, which may itself hold '_' (so not Split('_')[2]).
        var secret = fixture.Viewer["mr_0123456789abcdef_".Length..];
        Assert.True(secret.Length >= 20, fixture.Viewer);
        Assert.DoesNotContain(secret, cookie, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Viewer[..19], cookie, StringComparison.Ordinal);
        var (page, body) = await client.GetAsync("/ui/projects/uishop/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Signed in to Test shop as viewer.", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Behind_a_tls_proxy_the_session_cookie_is_secure()
    {
        using var client = fixture.Client();
        var (_, page) = await client.GetAsync("/ui/login");
        var (response, _) = await client.PostAsync("/ui/login", [new("csrf", UiClient.Csrf(page)), new("token", fixture.Viewer)],
            headers: new Dictionary<string, string> { ["X-Forwarded-Proto"] = "https" });
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Contains("; secure", response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("millrace_ui=", StringComparison.Ordinal)), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_wrong_token_is_refused_with_the_reason_and_starts_no_session()
    {
        using var client = fixture.Client();
        var wrong = fixture.Viewer[..^4] + "AAAA";
        var response = await client.SignInAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("invalid token", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("millrace_ui=", StringComparison.Ordinal)));
        var malformed = await client.SignInAsync("hello");
        Assert.Contains("malformed token", await malformed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sign_in_form_needs_its_own_csrf_value()
    {
        using var client = fixture.Client();
        var (response, body) = await client.PostAsync("/ui/login", [new("token", fixture.Viewer)]);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("sign-in form had expired", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_revoked_token_ends_the_session_at_the_next_request()
    {
        var token = await fixture.Server.TokenAsync(UiProject.Id, TokenRole.Admin);
        using var client = await fixture.SignedInAsync(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/ui/projects/uishop/models")).Response.StatusCode);
        ApiTokensTestHelper.TryId(token, out var id);
        await fixture.Server.Host(UiProject.Id).ServerStore.RevokeTokenAsync(id, DateTimeOffset.UtcNow, CancellationToken.None);
        var (refused, body) = await client.GetAsync("/ui/projects/uishop/models");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains($"token {id} was revoked", body, StringComparison.Ordinal);
        // The session is gone: the next request goes to the sign-in page.
        Assert.Equal(HttpStatusCode.SeeOther, (await client.GetAsync("/ui/projects/uishop/models")).Response.StatusCode);
    }

    [Fact]
    public async Task Signing_out_ends_the_session()
    {
        using var client = await fixture.SignedInAsync(fixture.Viewer);
        var (page, body) = await client.GetAsync("/ui/projects/uishop/");
        var (signedOut, _) = await client.PostAsync("/ui/logout", [new("csrf", UiClient.Csrf(body))]);
        Assert.Equal(HttpStatusCode.SeeOther, signedOut.StatusCode);
        Assert.Equal("/ui/login", signedOut.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.SeeOther, (await client.GetAsync("/ui/projects/uishop/")).Response.StatusCode);
    }

    [Fact]
    public async Task After_sign_in_the_browser_only_goes_to_pages_of_the_ui()
    {
        foreach (var next in new[] { "https://elsewhere.example/", "//elsewhere.example/ui/", "/ui//elsewhere.example", "/api/v1/projects" })
        {
            using var client = fixture.Client();
            var response = await client.SignInAsync(fixture.Viewer, next);
            Assert.Equal("/ui/projects/uishop/", response.Headers.Location?.OriginalString);
        }
    }

    [Fact]
    public async Task Another_project_is_not_found_with_this_projects_token()
    {
        using var client = await fixture.SignedInAsync(fixture.Viewer);
        var (response, body) = await client.GetAsync("/ui/projects/elsewhere/runs");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("no project &#39;elsewhere&#39; on this server", body, StringComparison.Ordinal);
    }
}

/// <summary>Reads the public id of a token text.</summary>
static class ApiTokensTestHelper
{
    public static bool TryId(string token, out string id) => Security.ApiTokens.TryParse(token, out id, out _);
}
