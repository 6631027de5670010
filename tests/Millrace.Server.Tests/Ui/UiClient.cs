using System.Net;
using System.Text.RegularExpressions;

namespace Millrace.Server.Tests.Ui;

/// <summary>A browser-like HTTP client for the UI: keeps cookies, does not follow redirects, reads the forms' CSRF field.</summary>
public sealed partial class UiClient : IDisposable
{
    readonly HttpClient _http;

    public UiClient(Uri baseAddress)
    {
        Cookies = new CookieContainer();
        _http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false }) { BaseAddress = baseAddress };
    }

    public CookieContainer Cookies { get; }

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();

    /// <summary>The CSRF value of the first form on the page.</summary>
    public static string Csrf(string page) => CsrfField().Match(page) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("no CSRF field on the page");

    public async Task<(HttpResponseMessage Response, string Body)> GetAsync(string url)
    {
        var response = await _http.GetAsync(url);
        return (response, await response.Content.ReadAsStringAsync());
    }

    public async Task<(HttpResponseMessage Response, string Body)> PostAsync(string url, IEnumerable<KeyValuePair<string, string>> form, string? origin = null,
        IReadOnlyDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
        if (origin is not null) request.Headers.Add("Origin", origin);
        foreach (var (name, value) in headers ?? new Dictionary<string, string>()) request.Headers.Add(name, value);
        var response = await _http.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Signs in through the form; returns the answer to the POST.</summary>
    public async Task<HttpResponseMessage> SignInAsync(string token, string? next = null)
    {
        var (_, page) = await GetAsync("/ui/login");
        var (response, _) = await PostAsync("/ui/login", [new("csrf", Csrf(page)), new("token", token), new("next", next ?? "")]);
        return response;
    }

    public void Dispose() => _http.Dispose();
}
