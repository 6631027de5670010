using System.Globalization;
using Microsoft.Extensions.Logging;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Parameters;
using Millrace.Server.Execution;
using Millrace.Server.Hosting;
using Millrace.Storage;
using Millrace.Storage.Sql;
using Millrace.Triggers;
using Quartz;
using Quartz.Extensibility;

namespace Millrace.Server.Scheduling;

/// <summary>A pipeline schedule as the API shows it.</summary>
public sealed record ScheduleInfo(string Pipeline, string Cron, string Timezone, int CatchUp, bool Paused, string? ChangedBy,
    DateTimeOffset? ChangedAt, DateTimeOffset? LastFireAt, DateTimeOffset? NextFireAt);

/// <summary>
/// Fires pipeline schedules with Quartz (in-memory job store, one node). A fire only records a run request with the
/// run key <c>schedule:&lt;fire time&gt;</c> (so one fire time never queues two runs) and <c>run.date</c> set to the
/// fire time's date in the schedule's time zone (<c>date:&lt;run date&gt;</c> when the pipeline also has a landing trigger,
/// so the schedule and the trigger start one run per date between them); the <see cref="RunExecutor"/> runs it. What must survive a restart
/// is in the store: whether a schedule is paused, and up to when fire times were handled. On start, fire times missed
/// while the server was down are skipped (<c>misfire: skip</c>, the default) or the most recent N are run
/// (<c>catch_up: N</c>). Fire times missed while paused are never run. Quartz and these decisions read the server's
/// clock (<see cref="ServerOptions.Clock"/>).
/// </summary>
public sealed class PipelineScheduler(ProjectRegistry projects, RunExecutor executor, ServerOptions options, TimeProvider clock, NodeIdentity node,
    ILogger<PipelineScheduler> logger) : IJobFactory
{
    readonly ProjectRegistry _projects = projects;
    readonly ILogger _logger = logger;
    const string RunKeyPrefix = "schedule:";

    /// <summary>A fire that waits behind a burst of others (a thousand schedules on one minute) is late, not missed.</summary>
    static readonly TimeSpan MisfireThreshold = TimeSpan.FromMinutes(1);

    /// <summary>The Quartz scheduler name every node of a cluster shares (<c>sched_name</c> in the qrtz_ tables).</summary>
    public const string ClusterName = "millrace";

    /// <summary>True when the schedules live in the clustered job store on PostgreSQL, shared with other nodes.</summary>
    public bool Clustered { get; private set; }

    /// <summary>Who requested a run for a fire time missed while the server was down (<c>catch_up: N</c>).</summary>
    public const string CatchUpRequester = "schedule (catch-up)";
    IScheduler? _scheduler;
    StandaloneSchedulerFactory? _factory;

    /// <summary>Registers every schedule of every hosted project (catching up where configured) and starts firing.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        // The nodes sharing a PostgreSQL store share one clustered Quartz scheduler in the same database (Quartz's own
        // qrtz_ tables): each fire time fires on exactly one node, and a dead node's fires are taken by the others.
        var databases = _projects.All.Select(h => h.ServerStore.SharedDatabase).OfType<SharedDatabase>().ToList();
        var shared = databases.FirstOrDefault();
        if (databases.Distinct().Count() > 1)
            _logger.LogWarning("the hosted projects use different PostgreSQL stores; the clustered scheduler keeps its tables in the first project's database");
        _factory = QuartzSchedulerBuilder.Create(q =>
        {
            if (shared is null)
            {
                q.ConfigureScheduler(o => o.InstanceName = "millrace-" + Guid.NewGuid().ToString("N")[..8]);
                q.UseInMemoryStore(o => o.MisfireThreshold = MisfireThreshold);
            }
            else
            {
                q.ConfigureScheduler(o =>
                {
                    o.InstanceName = ClusterName;
                    o.InstanceId = node.Owner;
                });
                q.UsePersistentStore(store =>
                {
                    store.UsePostgres(Npgsql.NpgsqlFactory.Instance, shared.ConnectionString);
                    store.ProvisionSchema();
                    store.ConfigureStore(o => o.MisfireThreshold = MisfireThreshold);
                    store.UseClustering(c =>
                    {
                        c.CheckinInterval = options.HeartbeatInterval;
                        c.CheckinMisfireThreshold = options.NodeTimeout;
                    });
                });
            }
            q.UseDefaultThreadPool(4);
            // Quartz fires by the server's clock too: a test that advances a fake clock fires the schedules it passes.
            q.UseTimeProvider(clock);
            q.UseJobFactory(this);
        }).Build();
        Clustered = shared is not null;
        _scheduler = await _factory.GetScheduler(ct);
        foreach (var host in _projects.All) await RegisterAsync(host, ct);
        await _scheduler.Start(ct);
    }

    /// <summary>Stops firing and records that fire times up to now were handled (so the next start counts misses from here).</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        if (_scheduler is null) return;
        await _scheduler.Shutdown(true, ct);
        var now = clock.GetUtcNow();
        foreach (var host in _projects.All)
            foreach (var pipeline in host.Definition.Pipelines.Values.Where(p => p.Schedule is not null))
                await host.ServerStore.MarkScheduleCheckedAsync(host.Id, pipeline.Name, now, null, ct);
        if (_factory is not null) await _factory.DisposeAsync();
    }

    /// <summary>(Re)registers the schedules of <paramref name="host"/>'s current definitions.</summary>
    public async Task RegisterAsync(ProjectHost host, CancellationToken ct)
    {
        var scheduler = _scheduler ?? throw new InvalidOperationException("the scheduler is not started");
        // Jobs of pipelines that no longer have a schedule go; the others are kept when their trigger is unchanged,
        // so a node that starts (or reloads) does not reset the triggers the cluster is firing.
        var wanted = host.Definition.Pipelines.Values.Where(p => p.Schedule is not null).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var stale in (await scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(host.Id), ct)).Where(k => !wanted.Contains(k.Name)))
            await scheduler.DeleteJob(stale, ct);
        var states = (await host.ServerStore.GetScheduleStatesAsync(host.Id, ct)).ToDictionary(s => s.Pipeline, StringComparer.Ordinal);
        var now = clock.GetUtcNow();
        foreach (var pipeline in host.Definition.Pipelines.Values)
        {
            if (pipeline.Schedule is not { } schedule) continue;
            var state = states.GetValueOrDefault(pipeline.Name);
            var expression = Expression(schedule);
            if (state is { Paused: false, CheckedAt: { } checkedAt } && schedule.CatchUp > 0)
                foreach (var missed in CronSchedules.Missed(expression, checkedAt, now, schedule.CatchUp))
                {
                    _logger.LogInformation("{Project}/{Pipeline}: catching up the fire time {Time:u} missed while the server was down", host.Id, pipeline.Name, missed);
                    await FireAsync(host, pipeline.Name, missed, ct, catchUp: true);
                }
            var existing = await scheduler.GetTrigger(new TriggerKey(pipeline.Name, host.Id), ct) as ICronTrigger;
            // A kept trigger long overdue (the whole cluster was down) would misfire into one extra fire "now";
            // the catch-up above already ran what catch_up asks for, so it starts afresh instead.
            if (existing?.CronExpressionString != expression.CronExpressionString || existing.TimeZone.Id != expression.TimeZone.Id
                || existing.MisfireInstruction != MisfireInstruction(pipeline) || existing.NextFireTimeUtc < now - MisfireThreshold)
                await scheduler.ScheduleJob(Job(host, pipeline), [Trigger(host, pipeline, expression, now)], new ScheduleJobOptions { Replace = true }, ct);
            if (state?.Paused == true) await scheduler.PauseJob(new JobKey(pipeline.Name, host.Id), ct);
            else if (await scheduler.GetTriggerState(new TriggerKey(pipeline.Name, host.Id), ct) == TriggerState.Paused)
                await scheduler.ResumeJob(new JobKey(pipeline.Name, host.Id), ct);
            await host.ServerStore.MarkScheduleCheckedAsync(host.Id, pipeline.Name, now, null, ct);
        }
    }

    /// <summary>The schedules of a project with their state and next fire time.</summary>
    public async Task<IReadOnlyList<ScheduleInfo>> ListAsync(ProjectHost host, CancellationToken ct)
    {
        var states = (await host.ServerStore.GetScheduleStatesAsync(host.Id, ct)).ToDictionary(s => s.Pipeline, StringComparer.Ordinal);
        var result = new List<ScheduleInfo>();
        foreach (var pipeline in host.Definition.Pipelines.Values.Where(p => p.Schedule is not null).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            var state = states.GetValueOrDefault(pipeline.Name);
            var paused = state?.Paused == true;
            DateTimeOffset? next = paused || _scheduler is null ? null : Expression(pipeline.Schedule!).GetNextValidTimeAfter(clock.GetUtcNow());
            result.Add(new ScheduleInfo(pipeline.Name, pipeline.Schedule!.Cron, pipeline.Schedule.Timezone, pipeline.Schedule.CatchUp, paused,
                state?.ChangedBy, state?.ChangedAt, state?.LastFireAt, next));
        }
        return result;
    }

    /// <summary>Pauses a schedule: it stops firing, now and after restarts, until resumed.</summary>
    public async Task PauseAsync(ProjectHost host, string pipeline, string by, CancellationToken ct)
    {
        await host.ServerStore.SetSchedulePausedAsync(host.Id, pipeline, true, by, clock.GetUtcNow(), ct);
        if (_scheduler is not null) await _scheduler.PauseJob(new JobKey(pipeline, host.Id), ct);
    }

    /// <summary>Resumes a schedule from now on: fire times that passed while it was paused are not run.</summary>
    public async Task ResumeAsync(ProjectHost host, string pipeline, string by, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await host.ServerStore.SetSchedulePausedAsync(host.Id, pipeline, false, by, now, ct);
        await host.ServerStore.MarkScheduleCheckedAsync(host.Id, pipeline, now, null, ct);
        if (_scheduler is null || !host.Definition.Pipelines.TryGetValue(pipeline, out var definition) || definition.Schedule is null) return;
        // A fresh trigger starting now, so Quartz does not treat the paused period as misfires.
        await _scheduler.DeleteJob(new JobKey(pipeline, host.Id), ct);
        await _scheduler.ScheduleJob(Job(host, definition), Trigger(host, definition, Expression(definition.Schedule), now), default, ct);
    }

    /// <summary>Records a run request for the fire at <paramref name="fireTime"/> (UTC).</summary>
    async Task FireAsync(ProjectHost host, string pipelineName, DateTimeOffset fireTime, CancellationToken ct, bool catchUp = false)
    {
        if (!host.Definition.Pipelines.TryGetValue(pipelineName, out var pipeline) || pipeline.Schedule is not { } schedule) return;
        var zone = TimeZoneInfo.FindSystemTimeZoneById(schedule.Timezone);
        var runDate = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(fireTime, zone).DateTime);
        // A pipeline with a landing trigger keys its schedule's run by date, like the trigger: whichever comes first
        // starts the date's run and the other is a duplicate.
        var runKey = pipeline.Trigger is not null ? LandingTrigger.DateKey(runDate)
            : RunKeyPrefix + fireTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var request = new RunRequest(pipelineName, [new(BuiltInParameters.RunDate, runDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))],
            TriggerKind.Schedule, RunKey: runKey);
        try
        {
            var result = await executor.SubmitAsync(host, request, new RunRequestInfo(RequestedBy: catchUp ? CatchUpRequester : "schedule"), ct: ct);
            if (!result.Duplicate)
                _logger.LogInformation("{Project}/{Pipeline}: schedule fired for {Time:u}: run {RunId} {Status}", host.Id, pipelineName, fireTime, result.Run.Id, result.Run.Status);
            else if (!catchUp)
                _logger.LogInformation("{Project}/{Pipeline}: the fire for {Time:u} was already recorded as run {RunId} (a recovered fire)", host.Id, pipelineName, fireTime, result.Run.Id);
        }
        catch (RunRequestException e)
        {
            _logger.LogError("{Project}/{Pipeline}: the schedule fired for {Time:u} but no run could be requested: {Error}", host.Id, pipelineName, fireTime, e.Message);
        }
        await host.ServerStore.MarkScheduleCheckedAsync(host.Id, pipelineName, fireTime, fireTime, ct);
    }

    static CronExpression Expression(ScheduleDefinition schedule) =>
        CronSchedules.ToQuartz(schedule.Cron, TimeZoneInfo.FindSystemTimeZoneById(schedule.Timezone));

    // RequestRecovery: a fire a node was recording when it died is fired again by another node (its run key makes
    // the second recording a no-op if the first got through).
    static IJobDetail Job(ProjectHost host, PipelineDefinition pipeline) =>
        JobBuilder.Create<FireJob>().WithIdentity(pipeline.Name, host.Id).RequestRecovery().Build();

    static CronTriggerMisfireInstruction MisfireInstruction(PipelineDefinition pipeline) =>
        pipeline.Schedule!.CatchUp > 0 ? CronTriggerMisfireInstruction.FireAndProceed : CronTriggerMisfireInstruction.DoNothing;

    ITrigger Trigger(ProjectHost host, PipelineDefinition pipeline, CronExpression expression, DateTimeOffset startAt)
    {
        var schedule = CronScheduleBuilder.Create(expression).WithMisfireInstruction(MisfireInstruction(pipeline));
        return TriggerBuilder.Create(clock).WithIdentity(pipeline.Name, host.Id).StartAt(startAt).WithSchedule(schedule).Build();
    }

    ValueTask<JobScope> IJobFactory.CreateJob(TriggerFiredBundle bundle, IScheduler scheduler, CancellationToken ct) =>
        ValueTask.FromResult(new JobScope(new FireJob(this), null));

    ValueTask IJobFactory.ReturnJob(JobScope scope, CancellationToken ct) => ValueTask.CompletedTask;

    /// <summary>The Quartz job of every schedule: hands the fire to <see cref="FireAsync"/>.</summary>
    sealed class FireJob(PipelineScheduler owner) : IJob
    {
        public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct)
        {
            var key = context.JobDetail.Key;
            var host = owner._projects.Find(key.Group);
            if (host is null) return;
            try
            {
                await owner.FireAsync(host, key.Name, context.ScheduledFireTimeUtc ?? context.FireTimeUtc, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                owner._logger.LogError(e, "{Project}/{Pipeline}: the schedule fire could not be recorded", key.Group, key.Name);
            }
        }
    }
}
