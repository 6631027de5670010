using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Millrace.Server.Storage;
using Millrace.Server.Tests.TestSupport;
using Millrace.Server.Tests.Ui;
using Millrace.Storage;

namespace Millrace.Server.Tests;

/// <summary>
/// Every POST/PUT/DELETE route of the server (read from its endpoint data source, so a new route is swept too) with
/// hostile requests: no token, a bad token, a valid token with the wrong content type, non-JSON, binary and oversized
/// bodies, and the UI's routes signed in with non-form bodies. Nothing answers 5xx; API errors are problem details with
/// a detail; the token is checked before the body is read.
/// </summary>
[Trait("Category", "Security")]
public sealed class HostileRequestTests : IAsyncLifetime
{
    readonly ProjectFolder _project = Samples.Prediction(new ProjectFolder("churn"));
    TestServer _server = null!;
    string _admin = null!;

    public async Task InitializeAsync()
    {
        _project.Pipeline("daily", "name: daily\nworkflows: [score]\nschedule: { cron: \"0 6 * * *\" }\n");
        _server = await TestServer.StartAsync(_project);
        _admin = await _server.TokenAsync("churn", TokenRole.Admin);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _project.Dispose();
    }

    /// <summary>The routes that change state, with their parameters filled with names that exist where they can.</summary>
    IReadOnlyList<string> Routes()
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["projectId"] = "churn", ["name"] = "prediction", ["pipeline"] = "daily", ["runId"] = "20260101-000000-abcdef",
        };
        var routes = _server.App.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Any(m => m is "POST" or "PUT" or "DELETE" or "PATCH") == true)
            .Select(e => "/" + string.Join('/', e.RoutePattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
            {
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart parameter => values.GetValueOrDefault(parameter.Name, "x"),
                _ => "",
            })))))
            .Distinct(StringComparer.Ordinal).ToList();
        Assert.Contains("/executePipeline", routes);
        Assert.Contains("/ui/login", routes);
        Assert.True(routes.Count >= 20, $"only {routes.Count} routes found: {string.Join(", ", routes)}");
        return routes;
    }

    static string Url(string route) => route == "/executePipeline" ? route + "?pipelineName=prediction&projectId=churn"
        : route == "/api/v1/models/prediction/predict" ? route + "?projectId=churn" : route;

    static readonly (string Name, Func<HttpContent> Body)[] Bodies =
    [
        ("non-JSON text", () => new StringContent("{{{ not json", Encoding.UTF8, "text/plain")),
        ("binary", () => new ByteArrayContent([0xff, 0xfe, 0x00, 0x01, 0x80, 0xc3, 0x28, 0x00]) { Headers = { ContentType = new("application/octet-stream") } }),
        ("a JSON array as a form", () => new StringContent("[1,2,3]", Encoding.UTF8, "application/x-www-form-urlencoded")),
        ("a multipart body without a boundary", () => new StringContent("--x\r\n", Encoding.UTF8) { Headers = { ContentType = MediaTypeHeaderValue.Parse("multipart/form-data") } }),
        ("a 2 MB JSON body", () => new StringContent("{\"workflowParameters\": \"" + new string('a', 2 << 20) + "\"}", Encoding.UTF8, "application/json")),
        ("a form with 5000 fields", () => new StringContent(string.Join('&', Enumerable.Range(0, 5000).Select(i => $"f{i}=1")), Encoding.UTF8, "application/x-www-form-urlencoded")),
    ];

    async Task<(HttpStatusCode Status, string Text, string? MediaType)> SendAsync(HttpClient client, string method, string url, HttpContent? content)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = content };
        // As curl does for large bodies: the server may answer before the body is sent (a refusal never reads it).
        request.Headers.ExpectContinue = true;
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType);
    }

    static void AssertClientError(string what, (HttpStatusCode Status, string Text, string? MediaType) answer, bool ui)
    {
        var code = (int)answer.Status;
        Assert.True(code < 500, $"{what}: {code} {answer.Text[..Math.Min(400, answer.Text.Length)]}");
        Assert.DoesNotContain("   at Millrace.", answer.Text, StringComparison.Ordinal); // no stack trace
        if (!ui && code >= 400)
        {
            Assert.True(answer.MediaType == "application/problem+json", $"{what}: {code} answered {answer.MediaType}");
            Assert.False(string.IsNullOrWhiteSpace(JsonDocument.Parse(answer.Text).RootElement.GetProperty("detail").GetString()), $"{what}: a detail");
        }
    }

    [Fact]
    public async Task Every_state_changing_api_route_checks_the_token_before_the_body_and_answers_hostile_bodies_with_a_4xx()
    {
        using var bad = _server.Client("mr_0123456789abcdef_not-the-secret");
        using var admin = _server.Client(_admin);
        foreach (var route in Routes().Where(r => !r.StartsWith("/ui", StringComparison.Ordinal)))
        {
            foreach (var (name, body) in Bodies)
            {
                var anonymous = await SendAsync(_server.Anonymous, "POST", Url(route), body());
                AssertClientError($"POST {route}, no token, {name}", anonymous, ui: false);
                Assert.True(anonymous.Status == HttpStatusCode.Unauthorized, $"POST {route}, no token, {name}: {(int)anonymous.Status} before the token check: {anonymous.Text}");
                var wrong = await SendAsync(bad, "POST", Url(route), body());
                Assert.True(wrong.Status == HttpStatusCode.Unauthorized, $"POST {route}, bad token, {name}: {(int)wrong.Status}: {wrong.Text}");
                AssertClientError($"POST {route}, admin, {name}", await SendAsync(admin, "POST", Url(route), body()), ui: false);
            }
        }
    }

    [Fact]
    public async Task Every_ui_route_answers_non_form_bodies_with_a_4xx_page_signed_in_or_not()
    {
        using var ui = new UiClient(_server.BaseAddress);
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _server.BaseAddress };
        Assert.Equal(HttpStatusCode.SeeOther, (await ui.SignInAsync(_admin)).StatusCode);
        using var signedIn = new HttpClient(new HttpClientHandler { CookieContainer = ui.Cookies, AllowAutoRedirect = false }) { BaseAddress = _server.BaseAddress };
        foreach (var route in Routes().Where(r => r.StartsWith("/ui", StringComparison.Ordinal)))
        {
            foreach (var (name, body) in Bodies)
            {
                AssertClientError($"POST {route}, anonymous, {name}", await SendAsync(anonymous, "POST", route, body()), ui: true);
                var answer = await SendAsync(signedIn, "POST", route, body());
                AssertClientError($"POST {route}, signed in, {name}", answer, ui: true);
                Assert.True(answer.Status is not HttpStatusCode.OK and not HttpStatusCode.SeeOther || route == "/ui/logout",
                    $"POST {route}, signed in, {name}: {(int)answer.Status} for a body that is not the form");
            }
        }
    }

    [Fact]
    public async Task A_non_form_sign_in_is_a_4xx_page_not_a_stack_trace()
    {
        using var client = new HttpClient { BaseAddress = _server.BaseAddress };
        var answer = await SendAsync(client, "POST", "/ui/login", new StringContent("""{"token": "x"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, answer.Status);
        Assert.Equal("text/html", answer.MediaType);
        Assert.Contains("takes a form", answer.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/executePipeline?pipelineName=prediction&projectId=churn")]
    [InlineData("/api/v1/projects/churn/pipelines/prediction/runs")]
    [InlineData("/api/v1/projects/churn/pipelines/prediction/backfill")]
    [InlineData("/api/v1/projects/churn/models/scorer/promote")]
    [InlineData("/api/v1/projects/churn/models/scorer/predict")]
    [InlineData("/ui/login")]
    public async Task A_body_over_the_servers_30_MB_limit_is_a_413(string url)
    {
        // Over a raw socket: the request announces 31 MB and the server answers before reading it (an HttpClient
        // would get a broken pipe while still sending, and never see the answer).
        var ui = url.StartsWith("/ui", StringComparison.Ordinal);
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(_server.BaseAddress.Host, _server.BaseAddress.Port);
        var stream = socket.GetStream();
        var head = $"POST {url} HTTP/1.1\r\nHost: {_server.BaseAddress.Authority}\r\ntoken: {_admin}\r\n" +
            $"Content-Type: {(ui ? "application/x-www-form-urlencoded" : "application/json")}\r\nContent-Length: {31 << 20}\r\nConnection: close\r\n\r\n{{\"rows\": \"aaaa";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var status = await reader.ReadLineAsync();
        var rest = await reader.ReadToEndAsync();

        Assert.StartsWith("HTTP/1.1 413", status, StringComparison.Ordinal);
        Assert.Contains(ui ? "larger than" : "\"detail\":\"the request body is larger than", rest, StringComparison.Ordinal);
        Assert.Empty(await _server.Host("churn").Store.FindRunsAsync(new RunFilter(), new Page(), CancellationToken.None));
    }
}
