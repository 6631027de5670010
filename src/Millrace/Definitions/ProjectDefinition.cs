namespace Millrace.Definitions;

/// <summary>
/// A whole project: <c>millrace.yaml</c> plus its workflows and pipelines. Load it with
/// <see cref="Project.Open"/>; check it with <see cref="ProjectValidator"/>.
/// </summary>
public sealed class ProjectDefinition
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public string? Description { get; init; }
    /// <summary>The landing zone, lake-relative (<c>raw</c> by default): Millrace reads it and never writes to it.</summary>
    public string Landing { get; init; } = "raw";
    /// <summary>Absolute path of the project folder.</summary>
    public required string Directory { get; init; }
    /// <summary>Lake root as written (<c>./lake</c> by default, or <c>s3://bucket/prefix</c>), resolved against <see cref="Directory"/>.</summary>
    public required string Lake { get; init; }
    /// <summary>The bucket, prefix and connection options when the lake is <c>s3://bucket/prefix</c>; null for a local folder.</summary>
    public S3LakeLocation? S3Lake { get; init; }
    /// <summary>Metadata store: null for the embedded SQLite default, else a connection string (may use <c>${env:NAME}</c>).</summary>
    public string? Store { get; init; }
    public required IReadOnlyDictionary<string, ParameterDefinition> Parameters { get; init; }
    /// <summary>Webhooks for every run of the project (<c>notify:</c> in millrace.yaml).</summary>
    public IReadOnlyList<NotifyDefinition> Notify { get; init; } = [];
    public required IReadOnlyDictionary<string, WorkflowDefinition> Workflows { get; init; }
    public required IReadOnlyDictionary<string, PipelineDefinition> Pipelines { get; init; }
    /// <summary>SHA-256 over every definition file's path and bytes: what a run records as "the definitions it ran".</summary>
    public required string DefinitionsHash { get; init; }

    /// <summary>
    /// The lake root DuckDB reads, as an absolute path: the lake folder itself, or for an S3 lake the local cache of
    /// the bucket (<c>.millrace/lake-cache</c> unless <c>lake_options.cache</c> names another folder).
    /// </summary>
    public string LakeRoot => S3Lake is null
        ? Path.GetFullPath(Path.Combine(Directory, Lake))
        : Path.GetFullPath(Path.Combine(Directory, S3Lake.Cache ?? Path.Combine(".millrace", "lake-cache")));

    /// <summary>The project-local state folder (<c>.millrace/</c>): the SQLite store and temporary files.</summary>
    public string StateDirectory => Path.Combine(Directory, ".millrace");
}

/// <summary>
/// An S3 lake, <c>lake: s3://bucket/prefix</c>, with the optional <c>lake_options</c> of millrace.yaml. Options left
/// out come from the standard AWS environment variables when the lake is opened (<c>AWS_ENDPOINT_URL_S3</c> or
/// <c>AWS_ENDPOINT_URL</c>, <c>AWS_REGION</c>; credentials always from <c>AWS_ACCESS_KEY_ID</c> and
/// <c>AWS_SECRET_ACCESS_KEY</c> or the SDK's other default sources).
/// </summary>
/// <param name="Bucket">The bucket name.</param>
/// <param name="Prefix">The key prefix of the lake root, without leading or trailing <c>/</c> ("" for the bucket root).</param>
/// <param name="Endpoint">An S3-compatible endpoint URL (MinIO, s3rver); null for AWS or the environment's.</param>
/// <param name="Region">The region; null for the environment's (<c>us-east-1</c> when none is set).</param>
/// <param name="ForcePathStyle">Path-style addressing; null means on when an endpoint is configured.</param>
/// <param name="Cache">The local cache folder (relative to the project); null for <c>.millrace/lake-cache</c>.</param>
public sealed record S3LakeLocation(string Bucket, string Prefix, string? Endpoint = null, string? Region = null, bool? ForcePathStyle = null, string? Cache = null)
{
    /// <summary>The lake as users write it: <c>s3://bucket/prefix</c>.</summary>
    public override string ToString() => Prefix.Length == 0 ? $"s3://{Bucket}" : $"s3://{Bucket}/{Prefix}";
}
