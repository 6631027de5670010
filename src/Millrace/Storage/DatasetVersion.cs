namespace Millrace.Storage;

/// <summary>A column of a dataset's schema: name and DuckDB type.</summary>
public sealed record ColumnSchema(string Name, string Type);

/// <summary>
/// A committed version of a dataset: the list of Parquet files (lake-relative) that make it up. Files are shared
/// between versions; a version exists only once the run that wrote it has committed.
/// </summary>
public sealed record DatasetVersion
{
    public required string Dataset { get; init; }
    public required int Version { get; init; }
    public required string RunId { get; init; }
    public required string Workflow { get; init; }
    public required string StepId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required long Rows { get; init; }
    public required IReadOnlyList<string> Files { get; init; }
    public required IReadOnlyList<ColumnSchema> Schema { get; init; }
    /// <summary>How the version was made: overwrite, append, replace_partitions, merge.</summary>
    public required string Operation { get; init; }

    /// <summary>
    /// Every file has exactly <see cref="Schema"/>'s columns, so a reader can bind a query from one file's footer
    /// instead of all of them. False once the schema evolved while older files were kept, and for versions recorded
    /// before this was tracked.
    /// </summary>
    public bool UniformSchema { get; init; }

    /// <summary>
    /// Whether a new version with <paramref name="schema"/> that keeps <paramref name="keptFiles"/> of this one still
    /// has one schema in all its files.
    /// </summary>
    public bool StaysUniform(IReadOnlyCollection<string> keptFiles, IReadOnlyList<ColumnSchema> schema) =>
        keptFiles.Count == 0 || (UniformSchema && Schema.SequenceEqual(schema));
}

/// <summary>A file written under the staging folder that the commit makes visible at its final lake path.</summary>
public sealed record StagedFile(string StagingPath, string FinalPath);

/// <summary>
/// Everything one workflow run changes, committed in one store transaction: new dataset versions (each with the
/// version it was based on, for the optimistic check) and output files to publish.
/// </summary>
public sealed record WorkflowCommit(
    string RunId,
    string Workflow,
    IReadOnlyList<(DatasetVersion Version, int? BaseVersion)> DatasetVersions,
    IReadOnlyList<StagedFile> StagedFiles)
{
    /// <summary>Files incremental reads took; committing them advances the watermark.</summary>
    public IReadOnlyList<WatermarkFile> Watermarks { get; init; } = [];

    /// <summary>Model versions to register, and the alias changes the promotion gate decided.</summary>
    public IReadOnlyList<ModelVersion> Models { get; init; } = [];
    public IReadOnlyList<AliasChange> AliasChanges { get; init; } = [];
}

/// <summary>A commit lost a race: another run committed a newer version of the dataset since this run read it.</summary>
public sealed class CommitConflictException(string message) : Exception(Marker + " " + message)
{
    /// <summary>Every conflict message starts with this, so a run's error tells a conflict (worth retrying) apart.</summary>
    public const string Marker = "commit conflict:";
}
