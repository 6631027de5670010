using System.Net;
using System.Text.Json;
using Millrace.Definitions.Schema;
using Millrace.Server.Tests.TestSupport;

namespace Millrace.Server.Tests;

/// <summary>GET /api/v1/schema serves the definitions' JSON Schema without a token (it holds no data).</summary>
public sealed class SchemaEndpointTests : IAsyncLifetime
{
    readonly ProjectFolder _project = Samples.Prediction(new ProjectFolder("churn"));
    TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(_project, o => o with { EnableScheduler = false });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _project.Dispose();
    }

    [Fact]
    public async Task The_schema_of_each_kind_is_served_without_a_token_and_an_unknown_kind_is_refused()
    {
        foreach (var kind in DefinitionSchemas.Kinds)
        {
            var byQuery = await _server.Anonymous.GetAsync($"/api/v1/schema?kind={kind}");
            Assert.Equal(HttpStatusCode.OK, byQuery.StatusCode);
            Assert.Equal("application/schema+json", byQuery.Content.Headers.ContentType?.MediaType);
            Assert.Equal(DefinitionSchemas.ToJson(kind), await byQuery.Content.ReadAsStringAsync());
            Assert.Equal(DefinitionSchemas.ToJson(kind), await _server.Anonymous.GetStringAsync($"/api/v1/schema/{kind}.schema.json"));
        }
        using (var whole = JsonDocument.Parse(await _server.Anonymous.GetStringAsync("/api/v1/schema")))
            Assert.Equal(3, whole.RootElement.GetProperty("anyOf").GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Anonymous.GetAsync("/api/v1/schema?kind=steps")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Anonymous.GetAsync("/api/v1/schema/steps.schema.json")).StatusCode);
    }
}
