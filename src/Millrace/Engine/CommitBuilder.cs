using Millrace.Storage;

namespace Millrace.Engine;

/// <summary>
/// Collects what a workflow run will make visible when it commits: dataset versions and staged output files.
/// Steps add to it; the executor commits it in one store transaction after the last step succeeds.
/// </summary>
public sealed class CommitBuilder
{
    readonly Lock _gate = new();
    readonly List<(DatasetVersion, int?)> _versions = [];
    readonly List<StagedFile> _staged = [];
    readonly List<string> _writtenFiles = [];
    readonly List<WatermarkFile> _watermarks = [];
    readonly List<ModelVersion> _models = [];
    readonly List<AliasChange> _aliasChanges = [];

    /// <summary>Registers a model version at commit, with the alias changes the promotion gate decided.</summary>
    public void AddModel(ModelVersion model, IEnumerable<AliasChange> aliasChanges)
    {
        lock (_gate)
        {
            _models.Add(model);
            _aliasChanges.AddRange(aliasChanges);
        }
    }

    /// <summary>Adds files an incremental read took; the commit advances the step's watermark past them.</summary>
    public void AddWatermarks(IEnumerable<WatermarkFile> files)
    {
        lock (_gate) _watermarks.AddRange(files);
    }
    readonly Dictionary<string, int> _read = new(StringComparer.Ordinal);

    /// <summary>Records that the run read <paramref name="dataset"/> at <paramref name="version"/>.</summary>
    public void RecordRead(string dataset, int version)
    {
        lock (_gate) _read.TryAdd(dataset, version);
    }

    /// <summary>Every dataset version this workflow run read, as <c>name@vN</c> (the lineage of what it makes).</summary>
    public IReadOnlyList<string> DatasetsRead { get { lock (_gate) return _read.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}@v{p.Value}").ToList(); } }

    /// <summary>The version of <paramref name="dataset"/> the run read at its start, if it read it.</summary>
    public int? VersionRead(string dataset)
    {
        lock (_gate) return _read.TryGetValue(dataset, out var v) ? v : null;
    }

    /// <summary>Adds a new dataset version based on <paramref name="baseVersion"/> (null when the dataset is new).</summary>
    public void AddDatasetVersion(DatasetVersion version, int? baseVersion)
    {
        lock (_gate)
        {
            if (_versions.Any(v => v.Item1.Dataset == version.Dataset))
                throw new StepFailedException($"dataset '{version.Dataset}' is written twice in one workflow run; write it from one step");
            _versions.Add((version, baseVersion));
        }
    }

    /// <summary>Adds an output file written under the staging folder, to be moved to its final path on commit.</summary>
    public void AddStagedFile(StagedFile file)
    {
        lock (_gate) _staged.Add(file);
    }

    /// <summary>Remembers an absolute path this run wrote, so a failed run can remove it (it is invisible anyway).</summary>
    public void AddWrittenFile(string absolutePath)
    {
        lock (_gate) _writtenFiles.Add(absolutePath);
    }

    public IReadOnlyList<string> WrittenFiles { get { lock (_gate) return [.. _writtenFiles]; } }

    /// <summary>Model versions this workflow run registers at its commit (a model report after a train step shows them).</summary>
    public IReadOnlyList<ModelVersion> Models { get { lock (_gate) return [.. _models]; } }

    /// <summary>Alias changes this workflow run makes at its commit, in order.</summary>
    public IReadOnlyList<AliasChange> AliasChanges { get { lock (_gate) return [.. _aliasChanges]; } }

    /// <summary>Files staged so far, with the lake path each is published to.</summary>
    public IReadOnlyList<StagedFile> StagedFiles { get { lock (_gate) return [.. _staged]; } }

    public bool IsEmpty { get { lock (_gate) return _versions.Count == 0 && _staged.Count == 0 && _watermarks.Count == 0 && _models.Count == 0; } }

    public WorkflowCommit Build(string runId, string workflow)
    {
        lock (_gate) return new WorkflowCommit(runId, workflow, [.. _versions], [.. _staged]) { Watermarks = [.. _watermarks], Models = [.. _models], AliasChanges = [.. _aliasChanges] };
    }
}
