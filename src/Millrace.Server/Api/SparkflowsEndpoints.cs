using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Millrace.Engine;
using Millrace.Parameters;
using Millrace.Server.Execution;
using Millrace.Server.Hosting;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Api;

/// <summary>
/// The Sparkflows-compatible Run Pipeline API: <c>POST /executePipeline?pipelineName=NAME&amp;projectId=ID</c> with the
/// header <c>token</c> and the body <c>{"workflowParameters": "--var NAME = VALUE"}</c>, whatever its Content-Type. It
/// records a run request and answers 200, as Sparkflows does (its client scripts treat anything else as a failure),
/// with the run id under Sparkflows' names (<c>id</c>, <c>executionId</c>) and ours, and a status URL; the executor runs
/// it. A client that accepts only <c>text/plain</c> gets the bare run id, as Sparkflows answers.
/// </summary>
public static class SparkflowsEndpoints
{
    const string Example = """{"workflowParameters": "--var region = north"}""";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/executePipeline", ExecutePipelineAsync)
            .RequireRole(TokenRole.Runner)
            .WithName("executePipeline")
            .WithTags("Run Pipeline API (Sparkflows)")
            .WithSummary("Run a pipeline")
            .WithDescription("Sparkflows-compatible. Query: pipelineName, projectId. Header: token (or Authorization: Bearer) and optional Idempotency-Key. Body: {\"workflowParameters\": \"--var NAME = VALUE\", \"userName\": \"…\", \"runKey\": \"…\"}.")
            .Accepts<ExecutePipelineBody>(isOptional: true, "application/json", RequestBody.AnyContentType)
            .Produces<ExecutePipelineAccepted>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    static async Task<IResult> ExecutePipelineAsync(HttpContext http, string? pipelineName, RunExecutor executor)
    {
        var host = Access.CallerOf(http).Host;
        if (string.IsNullOrWhiteSpace(pipelineName))
            return Problems.BadRequest("Missing pipelineName", "the query parameter pipelineName is required: POST /executePipeline?pipelineName=NAME&projectId=ID");
        if (!host.Definition.Pipelines.ContainsKey(pipelineName))
            return Problems.NotFound($"no pipeline '{pipelineName}' in project '{host.Id}' (pipelines: {Names(host.Definition.Pipelines.Keys)})");
        var (body, problem) = await RequestBody.ReadAsync(http.Request, Example);
        if (problem is not null) return problem;
        var workflowParameters = body!.String("workflowParameters", out problem);
        if (problem is not null) return problem;
        var userName = body.String("userName", out problem);
        if (problem is not null) return problem;
        var (runKey, keyProblem) = RunKey(http, body);
        if (keyProblem is not null) return keyProblem;
        Access.Audit(http, $"pipeline {pipelineName}", new { workflowParameters, runKey }, userName);

        IReadOnlyList<KeyValuePair<string, string>> variables;
        try
        {
            variables = VarParser.Parse(workflowParameters);
        }
        catch (VarSyntaxException e)
        {
            return BadParameters(e.Message);
        }
        var (accepted, refused) = await RecordAsync(http, executor, host, new RunRequest(pipelineName, variables, TriggerKind.Api, runKey), userName, "workflowParameters");
        if (accepted is null) return refused!;
        http.Response.Headers.Location = accepted.StatusUrl;
        if (WantsText(http.Request)) return TypedResults.Text(accepted.RunId, "text/plain");
        return TypedResults.Ok(ExecutePipelineAccepted.From(accepted));
    }

    /// <summary>Sparkflows answers the bare execution id as text: a client that accepts only text/plain gets that.</summary>
    static bool WantsText(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        return accept.Count > 0 && accept.All(a => a.MediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The run key from the Idempotency-Key header or the body's runKey (they must agree when both are given).</summary>
    internal static (string? Key, IResult? Problem) RunKey(HttpContext http, RequestBody body)
    {
        var header = http.Request.Headers["Idempotency-Key"].ToString();
        var field = body.String("runKey", out var problem);
        if (problem is not null) return (null, problem);
        if (header.Length > 0 && field is not null && field != header)
            return (null, Problems.BadRequest("Conflicting run keys", $"the Idempotency-Key header ('{header}') and the body's runKey ('{field}') differ; send one"));
        var key = header.Length > 0 ? header : field;
        if (key is { Length: > 200 }) return (null, Problems.BadRequest("Run key too long", "a run key may have at most 200 characters"));
        return (string.IsNullOrWhiteSpace(key) ? null : key, null);
    }

    /// <summary>Records the run request and answers 202 with the run and its status URL.</summary>
    internal static async Task<IResult> SubmitAsync(HttpContext http, RunExecutor executor, ProjectHost host, RunRequest request, string? userName, string parametersField)
    {
        var (accepted, refused) = await RecordAsync(http, executor, host, request, userName, parametersField);
        return accepted is null ? refused! : TypedResults.Accepted(accepted.StatusUrl, accepted);
    }

    /// <summary>Records the run request (audited); the accepted run, or the 400 that says why not.</summary>
    static async Task<(RunAccepted? Accepted, IResult? Refused)> RecordAsync(HttpContext http, RunExecutor executor, ProjectHost host, RunRequest request, string? userName, string parametersField)
    {
        var caller = Access.CallerOf(http);
        SubmitResult result;
        try
        {
            result = await executor.SubmitAsync(host, request, new RunRequestInfo(RequestedBy: caller.Actor, UserName: userName), ct: http.RequestAborted);
        }
        catch (RunRequestException e)
        {
            return (null, BadParameters(e.Message, parametersField));
        }
        var accepted = Accepted(http, result);
        Access.Audit(http, $"{result.Run.TargetKind} {result.Run.Target}", new { runId = result.Run.Id, result.Duplicate, status = accepted.Status, request.RunKey }, userName);
        return (accepted, null);
    }

    internal static RunAccepted Accepted(HttpContext http, SubmitResult result)
    {
        var run = result.Run;
        var baseUrl = PublicAddress.Of(http);
        var url = Views.RunUrl(run.ProjectId, run.Id);
        return new RunAccepted(run.Id, run.ProjectId, run.Target, Views.Status(run.Status), baseUrl + url, baseUrl + url + "/logs", result.Duplicate,
            run.Status == RunStatus.Skipped ? run.Error : null);
    }

    static IResult BadParameters(string message, string field = "workflowParameters") =>
        Problems.BadRequest("Bad parameters", $"{field}: {message}");

    internal static string Names(IEnumerable<string> names)
    {
        var list = names.Order(StringComparer.Ordinal).ToList();
        return list.Count == 0 ? "none" : string.Join(", ", list);
    }
}
