using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Parameters;
using Millrace.Server.Execution;
using Millrace.Server.Hosting;
using Millrace.Server.Scheduling;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Api;

/// <summary>Projects, pipelines and workflows: list, definition (with the YAML source), validate, start a run, reload.</summary>
public static class ProjectEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/projects", (HttpContext http) => TypedResults.Ok(new[] { Project(Access.CallerOf(http).Host) }))
            .RequireRole(TokenRole.Viewer).WithTags("Projects").WithSummary("The projects the token can see (its own)")
            .Produces<ProjectView[]>().ProducesProblem(401);

        var project = api.MapGroup("/projects/{projectId}").WithTags("Projects");
        project.MapGet("", (HttpContext http) => TypedResults.Ok(Project(Access.CallerOf(http).Host)))
            .RequireRole(TokenRole.Viewer).WithSummary("A project").Produces<ProjectView>().ProducesProblem(401).ProducesProblem(403).ProducesProblem(404);
        project.MapGet("/validate", (HttpContext http) => Validate(Access.CallerOf(http).Host, null))
            .RequireRole(TokenRole.Viewer).WithSummary("Validate the project's definitions as they are on disk now").Produces<ValidationView>();
        project.MapPost("/reload", ReloadAsync)
            .RequireRole(TokenRole.Admin).WithSummary("Load the definitions again and re-register schedules (nothing changes if they have errors)")
            .Produces<ProjectView>().ProducesProblem(422);

        var pipelines = project.MapGroup("/pipelines").WithTags("Pipelines");
        pipelines.MapGet("", (HttpContext http) =>
            {
                var project = Access.CallerOf(http).Host.Definition;
                return TypedResults.Ok(project.Pipelines.Values.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => Views.Pipeline(project, p)).ToList());
            })
            .RequireRole(TokenRole.Viewer).WithSummary("List pipelines").Produces<List<PipelineView>>();
        pipelines.MapGet("/{name}", (HttpContext http, string name) => Access.CallerOf(http).Host is var host && host.Definition.Pipelines.TryGetValue(name, out var p)
                ? TypedResults.Ok(new PipelineDefinitionView(Views.Pipeline(host.Definition, p), Source(host, p.Location.File)))
                : NoPipeline(host, name))
            .RequireRole(TokenRole.Viewer).WithSummary("A pipeline's definition").Produces<PipelineDefinitionView>().ProducesProblem(404);
        pipelines.MapGet("/{name}/validate", (HttpContext http, string name) => Access.CallerOf(http).Host is var host && host.Definition.Pipelines.TryGetValue(name, out var p)
                ? Validate(host, [p.Location.File, .. p.Workflows.Select(w => host.Definition.Workflows.TryGetValue(w, out var wf) ? wf.Location.File : "")])
                : NoPipeline(host, name))
            .RequireRole(TokenRole.Viewer).WithSummary("Validate a pipeline and its workflows").Produces<ValidationView>().ProducesProblem(404);
        pipelines.MapPost("/{name}/runs", (HttpContext http, string name, RunExecutor executor) => StartAsync(http, name, executor, pipeline: true))
            .RequireRole(TokenRole.Runner).WithSummary("Start a run of a pipeline (queued; 202 with its status URL)")
            .Accepts<StartRunBody>(isOptional: true, "application/json", RequestBody.AnyContentType).Produces<RunAccepted>(202).ProducesProblem(400).ProducesProblem(404);

        var workflows = project.MapGroup("/workflows").WithTags("Workflows");
        workflows.MapGet("", (HttpContext http) =>
            {
                var project = Access.CallerOf(http).Host.Definition;
                return TypedResults.Ok(project.Workflows.Values.OrderBy(w => w.Name, StringComparer.Ordinal).Select(w => Views.Workflow(project, w)).ToList());
            })
            .RequireRole(TokenRole.Viewer).WithSummary("List workflows").Produces<List<WorkflowView>>();
        workflows.MapGet("/{name}", (HttpContext http, string name) => Access.CallerOf(http).Host is var host && host.Definition.Workflows.TryGetValue(name, out var w)
                ? TypedResults.Ok(new WorkflowDefinitionView(Views.Workflow(host.Definition, w), Source(host, w.Location.File)))
                : NoWorkflow(host, name))
            .RequireRole(TokenRole.Viewer).WithSummary("A workflow's definition").Produces<WorkflowDefinitionView>().ProducesProblem(404);
        workflows.MapGet("/{name}/validate", (HttpContext http, string name) => Access.CallerOf(http).Host is var host && host.Definition.Workflows.TryGetValue(name, out var w)
                ? Validate(host, [w.Location.File])
                : NoWorkflow(host, name))
            .RequireRole(TokenRole.Viewer).WithSummary("Validate a workflow").Produces<ValidationView>().ProducesProblem(404);
        workflows.MapPost("/{name}/runs", (HttpContext http, string name, RunExecutor executor) => StartAsync(http, name, executor, pipeline: false))
            .RequireRole(TokenRole.Runner).WithSummary("Start a run of a single workflow (queued; 202 with its status URL)")
            .Accepts<StartRunBody>(isOptional: true, "application/json", RequestBody.AnyContentType).Produces<RunAccepted>(202).ProducesProblem(400).ProducesProblem(404);
    }

    static ProjectView Project(ProjectHost host)
    {
        var d = host.Definition;
        return new ProjectView(d.Id, d.Name, d.Description, d.Lake, d.DefinitionsHash, d.Pipelines.Count, d.Workflows.Count, $"/api/v1/projects/{d.Id}");
    }

    static IResult Validate(ProjectHost host, IReadOnlyCollection<string>? files)
    {
        var errors = host.Check().Where(e => files is null || files.Contains(e.Location.File)).Select(Views.Error).ToList();
        return TypedResults.Ok(new ValidationView(errors.Count == 0, errors));
    }

    static async Task<IResult> ReloadAsync(HttpContext http, PipelineScheduler scheduler, ServerOptions options)
    {
        var host = Access.CallerOf(http).Host;
        var errors = host.Reload();
        Access.Audit(http, $"project {host.Id}", new { errors = errors.Count, host.Definition.DefinitionsHash });
        if (errors.Count > 0)
            return TypedResults.UnprocessableEntity(new ValidationView(false, errors.Select(Views.Error).ToList()));
        if (options.EnableScheduler) await scheduler.RegisterAsync(host, http.RequestAborted);
        return TypedResults.Ok(Project(host));
    }

    static async Task<IResult> StartAsync(HttpContext http, string name, RunExecutor executor, bool pipeline)
    {
        var host = Access.CallerOf(http).Host;
        if (pipeline ? !host.Definition.Pipelines.ContainsKey(name) : !host.Definition.Workflows.ContainsKey(name))
            return pipeline ? NoPipeline(host, name) : NoWorkflow(host, name);
        var (body, problem) = await RequestBody.ReadAsync(http.Request, """{"parameters": {"region": "north"}}""");
        if (problem is not null) return problem;
        var parameters = body!.Map("parameters", out problem);
        if (problem is not null) return problem;
        var workflowParameters = body.String("workflowParameters", out problem);
        if (problem is not null) return problem;
        if (parameters.Count > 0 && workflowParameters is not null)
            return Problems.BadRequest("Bad parameters", "send either 'parameters' or 'workflowParameters', not both");
        var (runKey, keyProblem) = SparkflowsEndpoints.RunKey(http, body);
        if (keyProblem is not null) return keyProblem;
        IReadOnlyList<KeyValuePair<string, string>> variables = parameters;
        if (workflowParameters is not null)
        {
            try { variables = VarParser.Parse(workflowParameters); }
            catch (VarSyntaxException e) { return Problems.BadRequest("Bad parameters", $"workflowParameters: {e.Message}"); }
        }
        return await SparkflowsEndpoints.SubmitAsync(http, executor, host, new RunRequest(name, variables, TriggerKind.Api, runKey), null,
            workflowParameters is null ? "parameters" : "workflowParameters");
    }

    static string Source(ProjectHost host, string relativeFile)
    {
        var path = Path.Combine(host.Directory, relativeFile);
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    internal static IResult NoPipeline(ProjectHost host, string name) =>
        Problems.NotFound($"no pipeline '{name}' in project '{host.Id}' (pipelines: {SparkflowsEndpoints.Names(host.Definition.Pipelines.Keys)})");

    static IResult NoWorkflow(ProjectHost host, string name) =>
        Problems.NotFound($"no workflow '{name}' in project '{host.Id}' (workflows: {SparkflowsEndpoints.Names(host.Definition.Workflows.Keys)})");
}
