using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Millrace.Learning;
using Millrace.Server.Notifications;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Api;

/// <summary>A model version as the API shows it.</summary>
public sealed record ModelVersionView(string Name, int Version, IReadOnlyList<string> Aliases, string Task, string Algorithm, string Label, DateTimeOffset CreatedAt,
    string RunId, IReadOnlyDictionary<string, double> Metrics, IReadOnlyDictionary<string, string> Options, IReadOnlyList<FeatureColumn> Features,
    IReadOnlyList<string> Datasets, IReadOnlyDictionary<string, double> Importance, long TrainRows, long HoldoutRows, string Path);

/// <summary>A model: its versions (newest first), aliases and alias history.</summary>
public sealed record ModelView(string Name, IReadOnlyDictionary<string, int> Aliases, IReadOnlyList<ModelVersionView> Versions, IReadOnlyList<AliasHistoryEntry> History);

/// <summary>The body of a promote call.</summary>
public sealed record PromoteBody(int Version, string? Alias, string? Reason);

/// <summary>What an online prediction returns: the version used and one prediction per input row, in order.</summary>
public sealed record PredictionsView(string Model, int Version, IReadOnlyList<PredictionView> Predictions);

/// <summary>One row's prediction; <c>reasons</c> only with <c>?explain=N</c>.</summary>
public sealed record PredictionView(double Score, double? Probability, JsonElement? PredictedLabel,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ReasonView>? Reasons = null);

/// <summary>One reason for a prediction: an input column and its signed contribution to the raw score.</summary>
public sealed record ReasonView(string Feature, double Contribution);

/// <summary>
/// The model registry over HTTP (versions, metrics, promote, rollback) and online scoring:
/// <c>POST /api/v1/models/{name}/predict</c> scores JSON rows with the current champion (or <c>?alias=</c> / <c>?version=</c>),
/// with <c>?explain=N</c> each with its top N reasons.
/// Scoring is the project's <see cref="OnlineScorer"/>; this class reads and limits the request and writes the answer.
/// </summary>
public static class ModelEndpoints
{
    /// <summary>Most rows one online call may score.</summary>
    public const int MaxRows = 10_000;

    /// <summary>The largest scoring body read (MaxRows rows of a wide model fit well within it).</summary>
    public const int MaxBodyBytes = 16 << 20;

    public static void Map(RouteGroupBuilder api)
    {
        var models = api.MapGroup("/projects/{projectId}/models").WithTags("Models");
        models.MapGet("", async (HttpContext http) =>
            {
                var store = Access.CallerOf(http).Host.Store;
                var result = new List<ModelView>();
                foreach (var name in await store.ListModelsAsync(http.RequestAborted)) result.Add(await ModelAsync(store, name, http.RequestAborted));
                return TypedResults.Ok(result);
            })
            .RequireRole(TokenRole.Viewer).WithSummary("Every model with its versions, aliases and alias history").Produces<List<ModelView>>();
        models.MapGet("/{name}", async (HttpContext http, string name) =>
            {
                var store = Access.CallerOf(http).Host.Store;
                return (await store.ListModelVersionsAsync(name, http.RequestAborted)).Count == 0
                    ? Problems.NotFound($"no model '{name}' (see GET .../models)")
                    : TypedResults.Ok(await ModelAsync(store, name, http.RequestAborted));
            })
            .RequireRole(TokenRole.Viewer).WithSummary("A model's versions with metrics, its aliases and their history").Produces<ModelView>().ProducesProblem(404);
        models.MapPost("/{name}/promote", PromoteAsync)
            .RequireRole(TokenRole.Admin).WithSummary("Point an alias (champion by default) at a version; recorded in the alias history")
            .Accepts<PromoteBody>(isOptional: true, "application/json", RequestBody.AnyContentType).ProducesProblem(400).ProducesProblem(404);
        models.MapPost("/{name}/rollback", async (HttpContext http, string name) =>
            {
                var caller = Access.CallerOf(http);
                Access.Audit(http, $"model {name}@champion");
                try
                {
                    var (from, to) = await Registry(caller.Host).RollbackAsync(name, $"api:{caller.Token.Id}", http.RequestAborted);
                    await http.RequestServices.GetRequiredService<WebhookNotifier>().AliasChangedAsync(caller.Host, name, ModelRegistry.Champion, to, $"api:{caller.Token.Id}", CancellationToken.None);
                    return TypedResults.Ok(new { model = name, alias = ModelRegistry.Champion, from, to });
                }
                catch (InvalidOperationException e) { return Problems.Conflict(e.Message); }
            })
            .RequireRole(TokenRole.Admin).WithSummary("Point champion back at the previous champion").ProducesProblem(409);
        models.MapPost("/{name}/predict", PredictAsync)
            .RequireRole(TokenRole.Viewer).WithSummary("Score JSON rows with the champion (or ?alias= / ?version=); ?explain=N (1-20) adds each row's top N reasons").Produces<PredictionsView>().ProducesProblem(400).ProducesProblem(404);
        api.MapPost("/models/{name}/predict", PredictAsync)
            .RequireRole(TokenRole.Viewer).WithTags("Models").WithSummary("Score JSON rows with the champion of ?projectId= (or ?alias= / ?version=); ?explain=N (1-20) adds each row's top N reasons").Produces<PredictionsView>().ProducesProblem(400).ProducesProblem(404);
    }

    /// <summary>The body is read by hand after the token check (a bound body parameter would be read before it).</summary>
    static async Task<IResult> PromoteAsync(HttpContext http, string name)
    {
        var caller = Access.CallerOf(http);
        var (body, problem) = await RequestBody.ReadAsync(http.Request, """{"version": 3, "alias": "champion", "reason": "…"}""");
        if (problem is not null) return problem;
        var version = body!.Int("version", out problem);
        if (problem is not null) return problem;
        var alias = body.String("alias", out problem) ?? ModelRegistry.Champion;
        if (problem is not null) return problem;
        var reason = body.String("reason", out problem);
        if (problem is not null) return problem;
        if (version is not { } number) return Problems.BadRequest("Malformed body", "'version' is required: the model version to point the alias at, such as {\"version\": 3}");
        Access.Audit(http, $"model {name}@{alias}", new { version = number, alias, reason });
        try
        {
            var previous = await Registry(caller.Host).PromoteAsync(name, number, alias, $"api:{caller.Token.Id}", reason ?? "promoted over the API", http.RequestAborted);
            await http.RequestServices.GetRequiredService<WebhookNotifier>().AliasChangedAsync(caller.Host, name, alias, number, $"api:{caller.Token.Id}", CancellationToken.None);
            return TypedResults.Ok(new { model = name, alias, version = number, previous });
        }
        catch (InvalidOperationException e) { return Problems.NotFound(e.Message); }
    }

    static ModelRegistry Registry(Hosting.ProjectHost host) => new(host.Store, host.OpenLake());

    static async Task<ModelView> ModelAsync(IModelRegistryStore store, string name, CancellationToken ct)
    {
        var aliases = await store.GetAliasesAsync(name, ct);
        var versions = await store.ListModelVersionsAsync(name, ct);
        return new ModelView(name, aliases, versions.Select(v => View(v, aliases)).ToList(), await store.GetAliasHistoryAsync(name, ct));
    }

    static ModelVersionView View(ModelVersion v, IReadOnlyDictionary<string, int> aliases) =>
        new(v.Name, v.Version, aliases.Where(a => a.Value == v.Version).Select(a => a.Key).ToList(), v.Task.ToString().ToLowerInvariant(), v.Algorithm, v.Label,
            v.CreatedAt, v.RunId, v.Metrics, v.Options, v.Features, v.Datasets, v.Importance.ToDictionary(p => p.Key, p => p.Value), v.TrainRows, v.HoldoutRows, v.Path);

    /// <summary>
    /// Scores the rows of the body (a JSON array of objects, or <c>{"rows": [...]}</c>) with the model version the alias
    /// points at now. Feature values are converted to the types the model was trained on by DuckDB; a missing feature is NULL.
    /// <c>?explain=N</c> (whoever may score may ask; bounded to <see cref="FeatureContributions.MaxReasons"/>, so its cost
    /// stays within a constant of plain scoring) adds each row's top N reasons.
    /// </summary>
    static async Task<IResult> PredictAsync(HttpContext http, string name, string? alias, int? version, string? explain)
    {
        var host = Access.CallerOf(http).Host;
        // Read as text, so that a value that is not a number gets a detail too.
        var reasons = 0;
        if (explain is not null && (!int.TryParse(explain, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out reasons) || reasons is < 1 or > FeatureContributions.MaxReasons))
            return Problems.BadRequest("Bad explain", $"explain must be a whole number between 1 and {FeatureContributions.MaxReasons} (the reasons per row), got '{(explain.Length > 20 ? explain[..20] + "…" : explain)}'");
        JsonElement rows;
        var (text, problem) = await RequestBody.ReadTextAsync(http.Request, MaxBodyBytes);
        if (problem is not null) return problem;
        try
        {
            using var document = JsonDocument.Parse(text!);
            rows = (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("rows", out var inner) ? inner : document.RootElement).Clone();
        }
        catch (JsonException e)
        {
            return Problems.BadRequest("Malformed body", $"the body is not JSON: {e.Message}");
        }
        if (rows.ValueKind != JsonValueKind.Array || rows.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.Object))
            return Problems.BadRequest("Malformed body", "the body must be a JSON array of row objects, or {\"rows\": [ ... ]}");
        var count = rows.GetArrayLength();
        if (count == 0 || count > MaxRows) return Problems.BadRequest("Malformed body", $"send between 1 and {MaxRows} rows, got {count}");

        var reference = version is { } v ? new ModelReference(name, v, null) : new ModelReference(name, null, alias ?? ModelRegistry.Champion);
        OnlineScores? scores;
        try
        {
            scores = await host.Scorer.ScoreAsync(reference, rows, reasons, http.RequestAborted);
        }
        catch (ModelCannotExplainException e)
        {
            return Problems.BadRequest("Model cannot explain", e.Message);
        }
        catch (RowsDoNotFitException e)
        {
            return Problems.BadRequest("Rows do not fit the model", e.Message);
        }
        if (scores is null) return Problems.NotFound($"model {reference} does not exist in project '{host.Id}'");
        var unknown = scores.IgnoredFields;
        if (unknown.Count > 0) http.Response.Headers["Warning"] = $"199 millrace \"ignored fields that are not features: {HeaderText(string.Join(", ", unknown.Take(20).Select(n => n.Length > 100 ? n[..100] + "…" : n)) + (unknown.Count > 20 ? $" and {unknown.Count - 20} more" : ""))}\"";
        return TypedResults.Ok(new PredictionsView(scores.Model.Name, scores.Model.Version,
            scores.Predictions.Select(p => new PredictionView(p.Score, p.Probability, p.PredictedLabel is null ? null : JsonSerializer.SerializeToElement(p.PredictedLabel),
                p.Reasons?.Select(r => new ReasonView(r.Feature, r.Contribution)).ToList())).ToList()));
    }

    /// <summary>
    /// A field name as header text: a header value may only hold visible ASCII and spaces (anything else makes Kestrel
    /// throw while writing the answer), and a quoted string no bare quote or backslash. Others become \uXXXX.
    /// </summary>
    internal static string HeaderText(string text)
    {
        var builder = new System.Text.StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is >= ' ' and <= '~' && c is not ('"' or '\\')) builder.Append(c);
            else builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
        }
        return builder.ToString();
    }
}
