using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Millrace.Definitions.Schema;

namespace Millrace.Server.Api;

/// <summary>
/// <c>GET /api/v1/schema</c>: the JSON Schema of the definitions format, for editors. It holds no data (it is the same
/// for every project of this build), so it needs no token, like <c>/openapi/v1.json</c>.
/// </summary>
public static class SchemaEndpoints
{
    static readonly Dictionary<string, string> Documents =
        DefinitionSchemas.Kinds.Append("").ToDictionary(k => k, k => DefinitionSchemas.ToJson(k.Length == 0 ? null : k), StringComparer.Ordinal);

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/schema", (string? kind) => Serve(kind))
            .WithTags("Schema").WithSummary("The JSON Schema of the definitions (?kind=project|workflow|pipeline for one kind of file; no token needed)")
            .Produces<string>(200, "application/schema+json").ProducesProblem(400);
        api.MapGet("/schema/{kind}.schema.json", (string kind) => Serve(kind))
            .WithTags("Schema").WithSummary("The JSON Schema of one kind of definition file, at a URL an editor's $schema line can name")
            .Produces<string>(200, "application/schema+json").ProducesProblem(400);
    }

    static IResult Serve(string? kind) =>
        Documents.TryGetValue(kind ?? "", out var json)
            ? TypedResults.Text(json, "application/schema+json")
            : TypedResults.Problem(detail: $"unknown kind '{kind}' (known: {string.Join(", ", DefinitionSchemas.Kinds)})", statusCode: 400);
}
