using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Api;

/// <summary>Datasets and their versions, anomalies, the audit log and webhook deliveries.</summary>
public static class DataEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var project = api.MapGroup("/projects/{projectId}");
        project.MapGet("/datasets", ListDatasetsAsync)
            .RequireRole(TokenRole.Viewer).WithTags("Datasets").WithSummary("Every dataset with its latest version").Produces<List<DatasetVersionView>>();
        project.MapGet("/datasets/{name}/versions", async (HttpContext http, string name) =>
            {
                var host = Access.CallerOf(http).Host;
                var versions = await host.Store.ListDatasetVersionsAsync(name, http.RequestAborted);
                return versions.Count == 0 ? Problems.NotFound($"no dataset '{name}' in project '{host.Id}' (see GET /api/v1/projects/{host.Id}/datasets)") : TypedResults.Ok(await Views.DatasetsAsync(host.Store, versions, http.RequestAborted));
            })
            .RequireRole(TokenRole.Viewer).WithTags("Datasets").WithSummary("A dataset's versions, newest first").Produces<List<DatasetVersionView>>().ProducesProblem(404);
        project.MapGet("/datasets/{name}/versions/{version:int}", async (HttpContext http, string name, int version) =>
                await Access.CallerOf(http).Host.Store.GetDatasetVersionAsync(name, version, http.RequestAborted) is { } found
                    ? TypedResults.Ok((await Views.DatasetsAsync(Access.CallerOf(http).Host.Store, [found], http.RequestAborted))[0])
                    : Problems.NotFound($"dataset '{name}' has no version v{version}"))
            .RequireRole(TokenRole.Viewer).WithTags("Datasets").WithSummary("One version of a dataset: its files and schema").Produces<DatasetVersionView>().ProducesProblem(404);
        project.MapGet("/anomalies", async (HttpContext http, string? runId, string? kind, int? offset, int? limit) =>
                TypedResults.Ok((await Access.CallerOf(http).Host.Store.FindAnomaliesAsync(runId, kind, Page(offset, limit), http.RequestAborted)).Select(Views.Anomaly).ToList()))
            .RequireRole(TokenRole.Viewer).WithTags("Anomalies")
            .WithSummary("Anomalies, newest first (of one run with runId, of one kind with kind, such as deadline_missed)").Produces<List<AnomalyView>>();
        project.MapGet("/nodes", async (HttpContext http, ServerOptions options, TimeProvider clock) =>
            {
                var store = Access.CallerOf(http).Host.Store;
                var running = await store.GetRunningRunsAsync(http.RequestAborted);
                var now = clock.GetUtcNow();
                return TypedResults.Ok((await store.GetClusterNodesAsync(http.RequestAborted)).Select(n => new NodeView(n.Node, n.StartedAt, n.HeartbeatAt,
                    Math.Max(0, (now - n.HeartbeatAt).TotalSeconds), (now - n.HeartbeatAt) <= options.NodeTimeout,
                    running.Where(r => r.Owner == n.Node).Select(r => r.Run.Id).Order(StringComparer.Ordinal).ToList())).ToList());
            })
            .RequireRole(TokenRole.Viewer).WithTags("Cluster").WithSummary("The server nodes sharing this project's store: last heartbeat and the runs each executes").Produces<List<NodeView>>();
        project.MapGet("/audit", async (HttpContext http, int? offset, int? limit) =>
                TypedResults.Ok((await Access.CallerOf(http).Host.ServerStore.FindAuditAsync(Page(offset, limit), http.RequestAborted)).Select(Views.Audit).ToList()))
            .RequireRole(TokenRole.Admin).WithTags("Audit").WithSummary("The audit log of state-changing calls, newest first").Produces<List<AuditView>>();
        project.MapGet("/notifications", async (HttpContext http, string? runId, int? offset, int? limit) =>
                TypedResults.Ok((await Access.CallerOf(http).Host.ServerStore.FindNotificationsAsync(runId, Page(offset, limit), http.RequestAborted)).Select(Views.Delivery).ToList()))
            .RequireRole(TokenRole.Admin).WithTags("Notifications").WithSummary("Webhook deliveries and their attempts, newest first").Produces<List<DeliveryView>>();
    }

    static async Task<IResult> ListDatasetsAsync(HttpContext http, CancellationToken ct)
    {
        var store = Access.CallerOf(http).Host.Store;
        return TypedResults.Ok(await Views.DatasetsAsync(store, await store.ListDatasetsAsync(ct), ct));
    }

    static Page Page(int? offset, int? limit) => new(Math.Max(0, offset ?? 0), Math.Clamp(limit ?? 50, 1, 500));
}
