using System.Globalization;
using System.Text.Json;
using Millrace.Definitions;
using Millrace.Server.Scheduling;
using Millrace.Server.Storage;
using Millrace.Storage;

namespace Millrace.Server.Api;

/// <summary>The body of <c>POST /executePipeline</c>, as Sparkflows sends it.</summary>
/// <param name="WorkflowParameters">Parameters as <c>--var NAME=VALUE</c> words (spaces around '=' allowed, several --var).</param>
/// <param name="UserName">Who asks, recorded in the audit log (not verified).</param>
/// <param name="RunKey">Idempotency key (the <c>Idempotency-Key</c> header does the same): the same key returns the same run.</param>
public sealed record ExecutePipelineBody(string? WorkflowParameters, string? UserName, string? RunKey);

/// <summary>The body of <c>POST …/pipelines/{name}/runs</c> and <c>…/workflows/{name}/runs</c>.</summary>
/// <param name="Parameters">Parameter values by name (strings), e.g. <c>{"region": "north"}</c>.</param>
/// <param name="WorkflowParameters">Or the Sparkflows form, <c>--var NAME=VALUE</c>; not both.</param>
/// <param name="RunKey">Idempotency key.</param>
public sealed record StartRunBody(IReadOnlyDictionary<string, string>? Parameters, string? WorkflowParameters, string? RunKey);

/// <summary>The body of <c>POST …/pipelines/{name}/backfill</c>.</summary>
/// <param name="From">First run date, yyyy-MM-dd.</param>
/// <param name="To">Last run date, yyyy-MM-dd (inclusive).</param>
/// <param name="Parameters">Other parameter values for every run.</param>
/// <param name="RerunSucceeded">Also queue dates that already have a succeeded run.</param>
/// <param name="Only">Queue only the dates whose status (GET …/pipelines/{name}/dates) is in this comma-separated list, e.g. "missing,failed,stale".</param>
public sealed record BackfillBody(string From, string To, IReadOnlyDictionary<string, string>? Parameters, bool RerunSucceeded, string? Only);

/// <summary>A run request was accepted: the run and where to follow it.</summary>
/// <param name="RunId">The run's id.</param>
/// <param name="ProjectId">The project.</param>
/// <param name="PipelineName">The pipeline (or workflow) the run runs.</param>
/// <param name="Status">queued, or skipped (overlap policy), or the status of the earlier run a repeated key named.</param>
/// <param name="StatusUrl">GET it (with the token) for the run's status, steps and error.</param>
/// <param name="LogsUrl">GET it for the run's log lines.</param>
/// <param name="Duplicate">True when the run key named an earlier run: nothing new was started.</param>
/// <param name="Error">Why the run was skipped, when it was.</param>
public sealed record RunAccepted(string RunId, string ProjectId, string PipelineName, string Status, string StatusUrl, string LogsUrl, bool Duplicate, string? Error);

/// <summary>
/// The answer of <c>POST /executePipeline</c> (HTTP 200): the run id under the names Sparkflows clients read, then the
/// fields of <see cref="RunAccepted"/>.
/// </summary>
/// <param name="Id">The run id (Sparkflows: the pipeline execution's <c>id</c>).</param>
/// <param name="ExecutionId">The run id again (the name Sparkflows scripts give the execution id).</param>
/// <param name="RunId">The run id (Millrace's name).</param>
/// <param name="ProjectId">The project.</param>
/// <param name="PipelineName">The pipeline the run runs.</param>
/// <param name="Status">queued, or skipped (overlap policy), or the status of the earlier run a repeated key named.</param>
/// <param name="StatusUrl">GET it (with the token) for the run's status, steps and error.</param>
/// <param name="LogsUrl">GET it for the run's log lines.</param>
/// <param name="Duplicate">True when the run key named an earlier run: nothing new was started.</param>
/// <param name="Error">Why the run was skipped, when it was.</param>
public sealed record ExecutePipelineAccepted(string Id, string ExecutionId, string RunId, string ProjectId, string PipelineName, string Status,
    string StatusUrl, string LogsUrl, bool Duplicate, string? Error)
{
    public static ExecutePipelineAccepted From(RunAccepted run) =>
        new(run.RunId, run.RunId, run.RunId, run.ProjectId, run.PipelineName, run.Status, run.StatusUrl, run.LogsUrl, run.Duplicate, run.Error);
}

public sealed record ProjectView(string Id, string Name, string? Description, string Lake, string DefinitionsHash, int Pipelines, int Workflows, string Url);

/// <summary>A declared parameter of a pipeline or workflow.</summary>
/// <param name="Name">The name to pass, as <c>--var NAME=VALUE</c> or in <c>parameters</c>.</param>
/// <param name="Type">string, int, double, bool, date or timestamp.</param>
/// <param name="Default">The value when none is passed (null: required).</param>
/// <param name="Required">True when it has no default.</param>
/// <param name="Description">What it means, from the definition.</param>
/// <param name="DeclaredIn">Where it is declared: <c>project</c>, <c>pipeline</c> or <c>workflow NAME</c> (a later declaration of a name wins, in that order).</param>
public sealed record ParameterView(string Name, string Type, string? Default, bool Required, string? Description, string DeclaredIn);

public sealed record ScheduleView(string Cron, string Timezone, int CatchUp);

public sealed record NotifyView(string Url, IReadOnlyList<string> On);

/// <summary>A <c>deadline:</c> or one <c>freshness:</c> entry: <c>by</c> (HH:mm), its zone, <c>today</c> or <c>yesterday</c>, and for freshness the feed.</summary>
public sealed record DueView(string By, string Timezone, string Date, string? Feed = null);

public sealed record PipelineView(string Name, string? Description, IReadOnlyList<string> Workflows, IReadOnlyList<ParameterView> Parameters,
    ScheduleView? Schedule, int MaxActive, string OnOverlap, int RetryAttempts, double RetryBackoffSeconds, double? TimeoutSeconds,
    IReadOnlyList<NotifyView> Notify, DueView? Deadline, IReadOnlyList<DueView> Freshness, string File);

public sealed record PipelineDefinitionView(PipelineView Pipeline, string Source);

public sealed record StepView(string Id, string Type, IReadOnlyList<string> Inputs, string? Description);

public sealed record WorkflowView(string Name, string? Description, int MaxParallel, IReadOnlyList<ParameterView> Parameters, IReadOnlyList<StepView> Steps, string File);

public sealed record WorkflowDefinitionView(WorkflowView Workflow, string Source);

public sealed record DefinitionErrorView(string File, int Line, int Column, string? StepId, string Message);

public sealed record ValidationView(bool Valid, IReadOnlyList<DefinitionErrorView> Errors);

public sealed record RunView(string Id, string ProjectId, string Target, string TargetKind, string Trigger, string Status,
    IReadOnlyDictionary<string, string> Parameters, string RunDate, string? RunKey, string? ParentRunId, DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt, DateTimeOffset? EndedAt, double? DurationSeconds, string? Error, string Url, bool Stale = false, string? StaleReason = null);

public sealed record RunPage(IReadOnlyList<RunView> Items, int Offset, int Limit, int? NextOffset);

public sealed record WorkflowRunView(string Workflow, int Position, string Status, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt, DateTimeOffset? CommittedAt);

public sealed record StepRunView(string Workflow, string StepId, string Kind, string Status, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt,
    double? DurationSeconds, long? Rows, string? Error, JsonElement? Details);

/// <summary>A run with its workflows, steps and, for a pipeline with <c>retrain_when</c>, its retrain decision.</summary>
public sealed record RunDetailView(RunView Run, int? Attempt, string? RequestedBy, IReadOnlyList<WorkflowRunView> Workflows, IReadOnlyList<StepRunView> Steps,
    RetrainView? Retrain = null);

/// <summary>Whether the run asked for a training (<c>retrain_when</c>), why, and the training run it asked for.</summary>
public sealed record RetrainView(bool Asked, string Reason, string? RunId);

public sealed record LogLineView(long Seq, DateTimeOffset At, string Level, string? Workflow, string? StepId, string Message);

public sealed record CancelView(string RunId, string Outcome);

/// <summary>One run date of a pipeline (<c>GET …/pipelines/{name}/dates</c>, <c>millrace status --json</c>).</summary>
/// <param name="Date">The run date, yyyy-MM-dd.</param>
/// <param name="Status">missing, waiting, queued, running, succeeded, failed, cancelled, skipped, stale, up_to_date or deadline_missed.</param>
/// <param name="LatestRun">The run that speaks for the date (the newest not skipped), or null without runs.</param>
/// <param name="Runs">How many runs the date has.</param>
/// <param name="RunsByStatus">Those runs by status (statuses without runs left out).</param>
/// <param name="MissingFeeds">Feeds of the date that have not landed (a waiting date).</param>
/// <param name="StaleReason">Why what the date published is stale, or null.</param>
/// <param name="DeadlineMissedAt">When the date's deadline passed unmet, or null; kept when a run succeeded later.</param>
/// <param name="Note">Anything else to know about the date.</param>
public sealed record DateView(string Date, string Status, RunView? LatestRun, int Runs, IReadOnlyDictionary<string, int> RunsByStatus,
    IReadOnlyList<string> MissingFeeds, string? StaleReason, DateTimeOffset? DeadlineMissedAt, string? Note);

/// <summary>A page of a pipeline's dates, oldest first.</summary>
/// <param name="Pipeline">The pipeline.</param>
/// <param name="From">The first date of this page.</param>
/// <param name="To">The last date of this page.</param>
/// <param name="Items">One entry per date from <paramref name="From"/> to <paramref name="To"/>.</param>
/// <param name="Limit">The most dates a page holds.</param>
/// <param name="NextFrom">Pass it as 'from' (with the same 'to') for the next page; null on the last page.</param>
public sealed record DatePage(string Pipeline, string From, string To, IReadOnlyList<DateView> Items, int Limit, string? NextFrom);

/// <summary>What a backfill queued.</summary>
/// <param name="Runs">One run per date queued.</param>
/// <param name="SkippedDates">The dates not queued: already succeeded, or (with 'only') with a status not listed.</param>
public sealed record BackfillView(IReadOnlyList<RunAccepted> Runs, IReadOnlyList<string> SkippedDates);

public sealed record ScheduleStateView(string Pipeline, string Cron, string Timezone, int CatchUp, bool Paused, string? ChangedBy, DateTimeOffset? ChangedAt,
    DateTimeOffset? LastFireAt, DateTimeOffset? NextFireAt);

public sealed record ColumnView(string Name, string Type);

public sealed record DatasetVersionView(string Dataset, int Version, string RunId, string Workflow, string StepId, DateTimeOffset CreatedAt, long Rows,
    string Operation, IReadOnlyList<string> Files, IReadOnlyList<ColumnView> Schema, bool Stale = false, string? StaleReason = null);

public sealed record AnomalyView(string Id, string? RunId, string? Workflow, string? StepId, string Kind, string Severity, string Policy, string Message,
    JsonElement? Details, DateTimeOffset CreatedAt);

public sealed record AuditView(long Id, DateTimeOffset At, string Actor, string? UserName, string Action, string? Target, int Outcome, JsonElement? Details, string? RemoteAddress);

public sealed record DeliveryView(string Id, string? RunId, string Event, string Url, string Status, int Attempts, DateTimeOffset? LastAttemptAt,
    int? LastStatusCode, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? DeliveredAt, DateTimeOffset? NextAttemptAt);

/// <summary>
/// A server node sharing the store: its id (host, pid, start), when it started and last beat by its own clock, the
/// heartbeat's age by this node's clock, whether that is within the node timeout, and the runs it executes.
/// </summary>
public sealed record NodeView(string Node, DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt, double HeartbeatAgeSeconds, bool Alive, IReadOnlyList<string> Running);

/// <summary>Liveness; <c>TriggerErrors</c> names each landing trigger whose last poll failed on this node
/// (<c>project/pipeline</c>; the error itself is for viewers, in <c>GET …/pipelines/{name}/trigger</c>: <c>/healthz</c> is anonymous).</summary>
public sealed record HealthView(string Status, IReadOnlyList<string> Projects, int QueuedRuns, int RunningRuns, string Node, bool Clustered, IReadOnlyList<string> TriggerErrors);

/// <summary>Maps the library's records to what the API returns.</summary>
static class Views
{
    public static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    public static string RunUrl(string projectId, string runId) => $"/api/v1/projects/{projectId}/runs/{runId}";

    /// <summary>A run status as the API writes it: <c>succeeded</c>, <c>up_to_date</c>.</summary>
    public static string Status(RunStatus status) => status == RunStatus.UpToDate ? "up_to_date" : Lower(status);

    /// <summary>Reads a status the way <see cref="Status"/> writes it (any case; <c>up_to_date</c> or <c>uptodate</c>).</summary>
    public static bool TryParseStatus(string text, out RunStatus status) =>
        Enum.TryParse(text.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out status) && !int.TryParse(text, out _);

    public static RunView Run(Run run) => Run(run, null);

    /// <summary>A run with its open stale mark, if any (<c>stale</c>, <c>staleReason</c>).</summary>
    public static RunView Run(Run run, StaleMark? stale) => new(run.Id, run.ProjectId, run.Target, run.TargetKind, Lower(run.Trigger), Status(run.Status),
        run.Parameters.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal),
        run.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), run.RunKey, run.ParentRunId, run.CreatedAt, run.StartedAt, run.EndedAt,
        run.Duration?.TotalSeconds, run.Error, RunUrl(run.ProjectId, run.Id), stale is not null, stale?.Reason);

    /// <summary>Runs with their open stale marks, read in one query.</summary>
    public static async Task<List<RunView>> RunsAsync(IStaleStore store, IReadOnlyList<Run> runs, CancellationToken ct)
    {
        var stale = await store.GetOpenStaleMarksAsync(runs.Select(r => r.Id).ToList(), ct);
        return runs.Select(r => Run(r, stale.GetValueOrDefault(r.Id))).ToList();
    }

    /// <summary>Dataset versions with the open stale marks of the runs that committed them.</summary>
    public static async Task<List<DatasetVersionView>> DatasetsAsync(IStaleStore store, IReadOnlyList<DatasetVersion> versions, CancellationToken ct)
    {
        var stale = await store.GetOpenStaleMarksAsync(versions.Select(v => v.RunId).ToList(), ct);
        return versions.Select(v => Dataset(v, stale.GetValueOrDefault(v.RunId))).ToList();
    }

    /// <summary>
    /// The parameters a run of a pipeline or workflow takes: the project's, then its workflows', then the pipeline's (a
    /// later declaration of the same name wins, as when a run binds them).
    /// </summary>
    public static IReadOnlyList<ParameterView> Parameters(ProjectDefinition project, IEnumerable<WorkflowDefinition> workflows, PipelineDefinition? pipeline)
    {
        var declared = new Dictionary<string, ParameterView>(StringComparer.Ordinal);
        void Add(IReadOnlyDictionary<string, ParameterDefinition> parameters, string where)
        {
            foreach (var p in parameters.Values) declared[p.Name] = new ParameterView(p.Name, Lower(p.Type), p.Default, p.Required, p.Description, where);
        }
        Add(project.Parameters, "project");
        foreach (var workflow in workflows) Add(workflow.Parameters, $"workflow {workflow.Name}");
        if (pipeline is not null) Add(pipeline.Parameters, "pipeline");
        return declared.Values.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
    }

    public static PipelineView Pipeline(ProjectDefinition project, PipelineDefinition p) => new(p.Name, p.Description, p.Workflows,
        Parameters(project, p.Workflows.Select(w => project.Workflows.GetValueOrDefault(w)).OfType<WorkflowDefinition>(), p),
        p.Schedule is { } s ? new ScheduleView(s.Cron, s.Timezone, s.CatchUp) : null, p.Concurrency.MaxActive, Lower(p.Concurrency.OnOverlap),
        p.Retries.Attempts, p.Retries.Backoff.TotalSeconds, p.Timeout?.TotalSeconds, p.Notify.Select(n => new NotifyView(n.Url, n.Events)).ToList(),
        p.Deadline is { } d ? Due(d.Due, null) : null, p.Freshness.Select(f => Due(f.Due, f.Feed)).ToList(), p.Location.File);

    static DueView Due(DueTime due, string? feed) => new(due.ByText, due.Timezone, due.DateLag == 0 ? "today" : "yesterday", feed);

    public static WorkflowView Workflow(ProjectDefinition project, WorkflowDefinition w) => new(w.Name, w.Description, w.MaxParallel, Parameters(project, [w], null),
        w.Steps.Select(s => new StepView(s.Id, s.Type, s.Inputs, Millrace.Definitions.YamlNodeReader.Find(s.Options, "description") is YamlDotNet.RepresentationModel.YamlScalarNode d ? d.Value : null)).ToList(),
        w.Location.File);

    public static DefinitionErrorView Error(DefinitionError e) => new(e.Location.File, e.Location.Line, e.Location.Column, e.StepId, e.Message);

    public static StepRunView Step(StepRun s) => new(s.Workflow, s.StepId, s.Kind, Status(s.Status), s.StartedAt, s.EndedAt, s.Duration?.TotalSeconds, s.Rows, s.Error, JsonOrNull(s.DetailsJson));

    public static DatasetVersionView Dataset(DatasetVersion v, StaleMark? stale = null) => new(v.Dataset, v.Version, v.RunId, v.Workflow, v.StepId, v.CreatedAt, v.Rows, v.Operation, v.Files,
        v.Schema.Select(c => new ColumnView(c.Name, c.Type)).ToList(), stale is not null, stale?.Reason);

    public static AnomalyView Anomaly(Anomaly a) => new(a.Id, a.RunId.Length == 0 ? null : a.RunId, a.Workflow, a.StepId, a.Kind, Lower(a.Severity), a.Policy, a.Message, JsonOrNull(a.DetailsJson), a.CreatedAt);

    public static AuditView Audit(AuditEntry a) => new(a.Id, a.At, a.Actor, a.UserName, a.Action, a.Target, a.Outcome, JsonOrNull(a.DetailsJson), a.RemoteAddress);

    public static DeliveryView Delivery(NotificationDelivery d) => new(d.Id, d.RunId, d.Event, d.Url, Lower(d.Status), d.Attempts, d.LastAttemptAt, d.LastStatusCode,
        d.LastError, d.CreatedAt, d.DeliveredAt, d.NextAttemptAt);

    public static ScheduleStateView Schedule(ScheduleInfo s) => new(s.Pipeline, s.Cron, s.Timezone, s.CatchUp, s.Paused, s.ChangedBy, s.ChangedAt, s.LastFireAt, s.NextFireAt);

    static JsonElement? JsonOrNull(string? json)
    {
        if (json is null) return null;
        try { return JsonDocument.Parse(json).RootElement.Clone(); }
        catch (JsonException) { return JsonSerializer.SerializeToElement(json); }
    }
}
