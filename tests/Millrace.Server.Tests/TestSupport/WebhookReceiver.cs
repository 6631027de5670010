using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Millrace.Server.Tests.TestSupport;

/// <summary>A webhook receiver on loopback (Kestrel, a free port) that hands each POST's request and body to the test.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    readonly WebApplication _app;

    WebhookReceiver(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>The URL to write under <c>notify:</c>.</summary>
    public string Url { get; }

    /// <summary>Starts a receiver whose answer to each delivery is <paramref name="answer"/>'s (given the request and its body).</summary>
    public static async Task<WebhookReceiver> StartAsync(Func<HttpRequest, string, IResult> answer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/hooks/millrace", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            return answer(http.Request, await reader.ReadToEndAsync());
        });
        await app.StartAsync();
        return new WebhookReceiver(app, MillraceServer.Addresses(app).First() + "/hooks/millrace");
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
