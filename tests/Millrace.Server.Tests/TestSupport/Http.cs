using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Millrace.Server.Tests.TestSupport;

/// <summary>Small helpers for JSON calls.</summary>
public static class Http
{
    public static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<(HttpResponseMessage Response, JsonElement Json)> PostAsync(this HttpClient client, string url, string json)
    {
        using var body = Body(json);
        var response = await client.PostAsync(url, body);
        var text = await response.Content.ReadAsStringAsync();
        return (response, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<JsonElement> GetJsonAsync(this HttpClient client, string url) =>
        await client.GetFromJsonAsync<JsonElement>(url, TestServer.Json);

    /// <summary>Runs a pipeline through executePipeline and returns the accepted answer.</summary>
    public static async Task<JsonElement> ExecuteAsync(this HttpClient client, string project, string pipeline, string workflowParameters = "", string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/executePipeline?pipelineName={pipeline}&projectId={project}")
        {
            Content = Body(JsonSerializer.Serialize(new { workflowParameters })),
        };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != System.Net.HttpStatusCode.OK) throw new InvalidOperationException($"executePipeline answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static string Status(this JsonElement detail) => detail.GetProperty("run").GetProperty("status").GetString()!;
}
