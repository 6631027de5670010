using System.Net;
using Microsoft.Extensions.Time.Testing;
using Millrace.Server.Tests.TestSupport;
using UiSessions = Millrace.Server.Ui.UiSessions;
using Millrace.Server.Storage;

namespace Millrace.Server.Tests.Ui;

/// <summary>
/// A UI session ends after its idle timeout or its maximum age by the server's clock: the test advances a fake clock
/// instead of waiting twelve hours.
/// </summary>
public sealed class UiSessionClockTests : IAsyncLifetime
{
    readonly FakeTimeProvider _clock = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
    readonly ProjectFolder _project = new("clockui");
    TestServer _server = null!;
    string _viewer = "";

    public async Task InitializeAsync()
    {
        _project.Workflow("tick", "name: tick\nsteps:\n  - id: one\n    type: sql\n    sql: SELECT 1 AS n\n");
        _server = await TestServer.StartAsync(_project, o => o with { Clock = _clock, EnableScheduler = false });
        _viewer = await _server.TokenAsync("clockui", TokenRole.Viewer);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _project.Dispose();
    }

    async Task<HttpStatusCode> HomeAsync(UiClient client) => (await client.GetAsync("/ui/projects/clockui/")).Response.StatusCode;

    [Fact]
    public async Task A_session_ends_after_its_idle_timeout_and_a_request_before_it_keeps_it_alive()
    {
        using var client = new UiClient(_server.BaseAddress);
        Assert.Equal(HttpStatusCode.SeeOther, (await client.SignInAsync(_viewer)).StatusCode);

        _clock.Advance(UiSessions.IdleTimeout - TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.OK, await HomeAsync(client));
        _clock.Advance(UiSessions.IdleTimeout - TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.OK, await HomeAsync(client));

        _clock.Advance(UiSessions.IdleTimeout + TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.SeeOther, await HomeAsync(client));
    }

    [Fact]
    public async Task A_session_in_use_ends_at_its_maximum_age()
    {
        using var client = new UiClient(_server.BaseAddress);
        Assert.Equal(HttpStatusCode.SeeOther, (await client.SignInAsync(_viewer)).StatusCode);
        var step = UiSessions.IdleTimeout - TimeSpan.FromMinutes(1);
        var used = TimeSpan.Zero;
        for (; used + step <= UiSessions.MaxAge; used += step)
        {
            _clock.Advance(step);
            Assert.Equal(HttpStatusCode.OK, await HomeAsync(client));
        }

        _clock.Advance(UiSessions.MaxAge - used + TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.SeeOther, await HomeAsync(client));
    }
}
