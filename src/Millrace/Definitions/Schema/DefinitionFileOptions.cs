using System.Text.Json.Nodes;
using Millrace.Definitions.Options;

namespace Millrace.Definitions.Schema;

/// <summary>What a pipeline does when a run is requested while <c>max_active</c> runs are active.</summary>
public enum OverlapChoice { Queue, Skip }

/// <summary>The fields of <c>millrace.yaml</c>, as the loader reads them (<see cref="ProjectLoader"/>).</summary>
public sealed record ProjectFileOptions
{
    [Option("id", "Project id: letters, digits, `_`, `-`. Available as the built-in parameter `project.id`.", Required = true)]
    public string Id { get; init; } = "";

    [Option("name", "A display name.", Default = "the id")]
    public string? Name { get; init; }

    [Option("description", "Free text.")]
    public string? Description { get; init; }

    [Option("lake", "The lake root: a local folder, relative to the project folder, or `s3://bucket/prefix` for an S3 lake. `${env:NAME}` references are expanded.", Default = "`./lake`")]
    public string? Lake { get; init; }

    [Option("lake_options", "Only for an `s3://` lake. Each option left out comes from the environment (`AWS_ENDPOINT_URL_S3`, `AWS_REGION`).")]
    public LakeOptions? LakeOptions { get; init; }

    [Option("landing", "The landing zone: the folder of the lake where new files arrive. Millrace reads it and never writes to it.", Default = "`raw`")]
    public string? Landing { get; init; }

    [Option("store", "The run store: `sqlite:PATH` (a relative path is relative to the project folder). `${env:NAME}` references are expanded.", Default = "`.millrace/millrace.db`")]
    public string? Store { get; init; }

    [Option("parameters", "Parameters every workflow of the project can use: `name: default`, or `name: { type, default, description }`.", Schema = nameof(DefinitionSchemas.ParametersSchema))]
    public YamlDotNet.RepresentationModel.YamlNode? Parameters { get; init; }

    [Option("notify", "Webhooks for every run of the project that `millrace serve` executes.")]
    public IReadOnlyList<NotifyOptions> Notify { get; init; } = [];

    /// <summary>The schema of <c>parameters</c> (shared by the three files).</summary>
    public static JsonObject ParametersSchema() => DefinitionSchemas.ParametersSchema();
}

/// <summary><c>lake_options:</c> of an S3 lake.</summary>
public sealed record LakeOptions
{
    [Option("endpoint", "An http or https URL of an S3-compatible store, such as `http://127.0.0.1:9000`. `${env:NAME}` allowed.")]
    public string? Endpoint { get; init; }

    [Option("region", "The S3 region (default from `AWS_REGION`, else `us-east-1`).")]
    public string? Region { get; init; }

    [Option("force_path_style", "Path-style addressing (on by default when an endpoint is set).")]
    public bool? ForcePathStyle { get; init; }

    [Option("cache", "The local folder DuckDB reads (default `.millrace/lake-cache`, relative to the project).")]
    public string? Cache { get; init; }
}

/// <summary>One webhook of <c>notify:</c>.</summary>
public sealed record NotifyOptions
{
    [Option("url", "An absolute http or https URL.", Required = true)]
    public string Url { get; init; } = "";

    [Option("on", "The events sent: `run.failed`, `run.succeeded`, `anomaly`, `deadline.missed`, `freshness.missed`.", Default = "`[run.failed, anomaly, deadline.missed, freshness.missed]`", Schema = nameof(EventsSchema))]
    public YamlDotNet.RepresentationModel.YamlNode? On { get; init; }

    [Option("secret", "Signs each delivery; write `${env:NAME}` so it stays out of the definitions.", Required = true)]
    public string Secret { get; init; } = "";

    /// <summary>The schema of <c>on</c>: one known event or a list of them.</summary>
    public static JsonObject EventsSchema()
    {
        var one = JsonSchemaWriter.Enum(NotifyEvents.Known, "A notify event.");
        return new JsonObject { ["anyOf"] = new JsonArray(one.DeepClone(), new JsonObject { ["type"] = "array", ["items"] = one }) };
    }
}

/// <summary>The fields of a workflow file (<c>workflows/*.yaml</c>).</summary>
public sealed record WorkflowFileOptions
{
    [Option("name", "The workflow's name, used by `millrace run <name>` and in pipelines.", Default = "the file name")]
    public string? Name { get; init; }

    [Option("description", "Free text.")]
    public string? Description { get; init; }

    [Option("parameters", "Parameters this workflow declares.", Schema = nameof(DefinitionSchemas.ParametersSchema))]
    public YamlDotNet.RepresentationModel.YamlNode? Parameters { get; init; }

    [Option("steps", "The steps, a list with at least one step; each has `id`, `type` and the kind's options (`millrace steps`).", Required = true, Schema = nameof(StepsSchema))]
    public YamlDotNet.RepresentationModel.YamlNode? Steps { get; init; }

    [Option("max_parallel", "How many steps may run at the same time.", Minimum = 1)]
    public int MaxParallel { get; init; } = 2;

    [Option("memo", "Skip the workflow, recorded `up_to_date`, when its inputs (dataset versions, lake files its reads match, models, this file, the parameters it uses) are the same as at its last successful run; `false` always runs it.")]
    public bool Memo { get; init; } = true;

    /// <summary>The schema of the parameters (shared by the three files).</summary>
    public static JsonObject ParametersSchema() => DefinitionSchemas.ParametersSchema();

    /// <summary>The schema of <c>steps</c>: a reference to the list of steps in <c>$defs</c>.</summary>
    public static JsonObject StepsSchema() => new() { ["$ref"] = "#/$defs/steps" };
}

/// <summary>The fields of a pipeline file (<c>pipelines/*.yaml</c>).</summary>
public sealed record PipelineFileOptions
{
    [Option("name", "The pipeline's name.", Default = "the file name")]
    public string? Name { get; init; }

    [Option("description", "Free text.")]
    public string? Description { get; init; }

    [Option("workflows", "Workflow names, run in this order (a list, or a single name).", Required = true,
        Missing = "a pipeline needs 'workflows: [ ... ]' with at least one workflow")]
    public IReadOnlyList<string> Workflows { get; init; } = [];

    [Option("parameters", "Parameters for this pipeline's workflows; they override a workflow's or the project's declaration of the same name.", Schema = nameof(DefinitionSchemas.ParametersSchema))]
    public YamlDotNet.RepresentationModel.YamlNode? Parameters { get; init; }

    [Option("schedule", "When `millrace serve` starts a run.")]
    public ScheduleOptions? Schedule { get; init; }

    [Option("concurrency", "How many runs of this pipeline may be active at once, and what a further request does.")]
    public ConcurrencyOptions? Concurrency { get; init; }

    [Option("retries", "Automatic retries of a failed run.")]
    public RetryOptions? Retries { get; init; }

    [Option("timeout", "A duration (`30m`, `2h`), above 0 and at most `7d`: a run still running that long after it started is stopped and fails.", Pattern = OptionAttribute.DurationPattern, Default = "none")]
    public string? Timeout { get; init; }

    [Option("notify", "Webhooks for this pipeline's runs, in addition to `notify:` in millrace.yaml.")]
    public IReadOnlyList<NotifyOptions> Notify { get; init; } = [];

    [Option("retrain_when", "Request a run of a training pipeline when this pipeline's drift or its champion's realized metric calls for it, with a cooldown and a row minimum (docs/anomalies.md#retraining-on-drift).")]
    public RetrainOptions? RetrainWhen { get; init; }

    [Option("trigger", "A landing trigger: `millrace serve` starts the pipeline once per date when every feed of that date has landed and settled (docs/triggers.md).")]
    public TriggerOptions? Trigger { get; init; }
    [Option("deadline", "Raise an alert (anomaly `deadline_missed`, webhook `deadline.missed`) when no run of this pipeline for a date has succeeded by a time of day.")]
    public DeadlineOptions? Deadline { get; init; }

    [Option("freshness", "Raise an alert (anomaly `freshness_missed`, webhook `freshness.missed`) when a feed's files for a date are not in the lake by a time of day: one entry or a list.", Schema = nameof(FreshnessSchema))]
    public YamlDotNet.RepresentationModel.YamlNode? Freshness { get; init; }

    /// <summary>The schema of the parameters (shared by the three files).</summary>
    public static JsonObject ParametersSchema() => DefinitionSchemas.ParametersSchema();

    /// <summary>The schema of <c>freshness</c>: one entry or a list.</summary>
    public static JsonObject FreshnessSchema() => FreshnessOptions.OneOrListSchema();
}

/// <summary><c>schedule:</c> of a pipeline.</summary>
public sealed record ScheduleOptions
{
    [Option("cron", "A cron expression: 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first.", Required = true)]
    public string Cron { get; init; } = "";

    [Option("timezone", "An IANA time zone, such as `Europe/Paris`.", Default = "`UTC`")]
    public string? Timezone { get; init; }

    [Option("misfire", "Fire times missed while the server was down are skipped (the default); write `catch_up: N` to run them.", Schema = nameof(MisfireSchema))]
    public YamlDotNet.RepresentationModel.YamlNode? Misfire { get; init; }

    [Option("catch_up", "Run the N most recent fire times missed while the server was down.", Minimum = 0)]
    public int CatchUp { get; init; }

    /// <summary>The schema of <c>misfire</c>: only <c>skip</c>.</summary>
    public static JsonObject MisfireSchema() => new() { ["enum"] = new JsonArray("skip") };
}

/// <summary><c>concurrency:</c> of a pipeline.</summary>
public sealed record ConcurrencyOptions
{
    [Option("max_active", "How many runs of this pipeline may be active at once.", Minimum = 1)]
    public int MaxActive { get; init; } = 1;

    [Option("on_overlap", "What to do when a run is requested while `max_active` runs are active.")]
    public OverlapChoice OnOverlap { get; init; } = OverlapChoice.Queue;
}

/// <summary><c>retries:</c> of a pipeline.</summary>
public sealed record RetryOptions
{
    [Option("attempts", "How many times to retry a failed run automatically.", Minimum = 0)]
    public int Attempts { get; init; }

    [Option("backoff", "The wait between attempts: a duration from `0s` to `1d`.", Pattern = OptionAttribute.DurationPattern, Default = "`0s`")]
    public string? Backoff { get; init; }
}

/// <summary>What a landing trigger does with files that land for a date already run.</summary>
public enum LateChoice { Rerun, Ignore, MarkStale }

/// <summary><c>trigger:</c> of a pipeline (a landing trigger).</summary>
public sealed record TriggerOptions
{
    [Option("when_landed", "The feeds a date needs: lake-relative globs with a `{date}` placeholder (`yyyy-MM-dd`, or `{date:yyyyMMdd}`), such as `raw/events/dt={date}/*.csv`. No wildcard before `{date}`.", Required = true,
        Missing = "a trigger needs 'when_landed: [ ... ]' with at least one pattern holding {date}")]
    public IReadOnlyList<string> WhenLanded { get; init; } = [];

    [Option("settle", "How long a date's files must stay unchanged (no new, changed or removed file) before they count as landed: a duration from `0s` to `1d`.", Pattern = OptionAttribute.DurationPattern, Default = "`2m`")]
    public string? Settle { get; init; }

    [Option("from", "The earliest date to consider (`yyyy-MM-dd`); dates before it are never run.", Required = true)]
    public string From { get; init; } = "";

    [Option("on_late", "What files that land for a date already run do: start it again (`rerun`), or only record them (`ignore`, `mark_stale`).")]
    public LateChoice OnLate { get; init; } = LateChoice.Rerun;

    [Option("late_window", "How far back (from the newest date seen) dates already run are listed again for late files, and new dates are discovered: a duration from `1d` to `366d`.", Pattern = OptionAttribute.DurationPattern, Default = "`7d`")]
    public string? LateWindow { get; init; }

    [Option("poll", "How often `millrace serve` lists the feeds (a local lake's file-system notifications also wake it): a duration from `1s` to `1d`.", Pattern = OptionAttribute.DurationPattern, Default = "`30s`")]
    public string? Poll { get; init; }
}
