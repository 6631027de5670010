using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Millrace.Server.Hosting;
using Millrace.Server.Security;
using Millrace.Server.Storage;

namespace Millrace.Server.Tests.TestSupport;

/// <summary>
/// A real Millrace server (Kestrel on 127.0.0.1, a free port) over one or more project folders, with the test step
/// kinds. Tokens are made through the store as <c>millrace token create</c> makes them.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    static readonly string[] Terminal = ["succeeded", "failed", "cancelled", "skipped", "up_to_date"];

    TestServer(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
        Anonymous = new HttpClient { BaseAddress = baseAddress };
    }

    public WebApplication App { get; }
    public Uri BaseAddress { get; }

    /// <summary>A client that sends no token.</summary>
    public HttpClient Anonymous { get; }

    public static async Task<TestServer> StartAsync(ProjectFolder project, Func<ServerOptions, ServerOptions>? configure = null) =>
        await StartAsync([project.Directory], configure);

    public static async Task<TestServer> StartAsync(IReadOnlyList<string> projectDirectories, Func<ServerOptions, ServerOptions>? configure = null)
    {
        var options = new ServerOptions
        {
            ProjectDirectories = projectDirectories,
            Urls = "http://127.0.0.1:0",
            Catalog = TestSteps.Catalog,
            MaxConcurrentRuns = 2,
            DuckDbThreads = 1,
            ShutdownTimeout = TimeSpan.FromSeconds(5),
            WebhookBackoff = TimeSpan.FromMilliseconds(200),
            UseConsoleLifetime = false,
            ConfigureLogging = logging => logging.SetMinimumLevel(LogLevel.Warning),
        };
        options = configure?.Invoke(options) ?? options;
        var app = await MillraceServer.BuildAsync(options);
        await app.StartAsync();
        return new TestServer(app, new Uri(MillraceServer.Addresses(app).First()));
    }

    /// <summary>The server's clock (a fake one when the test passed it in <see cref="ServerOptions.Clock"/>).</summary>
    public TimeProvider Clock => (TimeProvider)App.Services.GetService(typeof(TimeProvider))!;

    /// <summary>The server's node identity.</summary>
    public Millrace.Engine.NodeIdentity Node => (Millrace.Engine.NodeIdentity)App.Services.GetService(typeof(Millrace.Engine.NodeIdentity))!;

    public ProjectHost Host(string projectId) => Registry.Find(projectId) ?? throw new InvalidOperationException($"no project {projectId}");

    ProjectRegistry Registry => (ProjectRegistry)App.Services.GetService(typeof(ProjectRegistry))!;

    /// <summary>Creates a token in the project's store and returns its text.</summary>
    public async Task<string> TokenAsync(string projectId, TokenRole role, TimeSpan? lifetime = null)
    {
        var (token, text) = ApiTokens.Create(projectId, role, "test", lifetime, Clock.GetUtcNow());
        await Host(projectId).ServerStore.CreateTokenAsync(token, CancellationToken.None);
        return text;
    }

    /// <summary>A client that sends <paramref name="token"/> in the Sparkflows <c>token</c> header.</summary>
    public HttpClient Client(string token)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        client.DefaultRequestHeaders.Add("token", token);
        return client;
    }

    /// <summary>Polls a run's status URL until it is in a final state; returns the run detail.</summary>
    public static async Task<JsonElement> WaitForRunAsync(HttpClient client, string statusUrl, TimeSpan? timeout = null)
    {
        var limit = Stopwatch.StartNew();
        while (true)
        {
            var detail = await client.GetFromJsonAsync<JsonElement>(statusUrl, Json);
            var status = detail.GetProperty("run").GetProperty("status").GetString();
            if (Terminal.Contains(status)) return detail;
            if (limit.Elapsed > (timeout ?? TimeSpan.FromSeconds(30)))
                throw new TimeoutException($"run at {statusUrl} is still {status} after {limit.Elapsed}: {detail}");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds (polling), or fails the test.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var limit = Stopwatch.StartNew();
        while (!await condition())
        {
            if (limit.Elapsed > timeout) throw new TimeoutException($"not within {timeout}: {what}");
            await Task.Delay(50);
        }
    }

    /// <summary>Stops the server as Ctrl-C would (graceful shutdown).</summary>
    public async Task StopAsync() => await App.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Anonymous.Dispose();
        try { await App.StopAsync(); } catch (ObjectDisposedException) { }
        await App.DisposeAsync();
    }
}
