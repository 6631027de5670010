using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Millrace.Datasets;
using Millrace.Definitions;
using Millrace.Lake;
using Millrace.Parameters;
using Millrace.Steps;
using Millrace.Storage;
using YamlDotNet.RepresentationModel;

namespace Millrace.Engine;

/// <summary>
/// What a workflow's outputs depend on, as the memo compares it: the workflow file (<see cref="Definition"/>), the
/// values of the parameters it references, the versions of the datasets it reads and writes, the lake files its read
/// steps match (path, size, time or ETag; a count and a hash per step) and the versions and aliases of the models it
/// uses or trains. Two runs with the same <see cref="Hash"/> would read the same data the same way.
/// </summary>
public sealed record MemoInputs(
    string Definition,
    SortedDictionary<string, string> Parameters,
    SortedDictionary<string, string> Datasets,
    SortedDictionary<string, string> Files,
    SortedDictionary<string, string> Models)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    [System.Text.Json.Serialization.JsonIgnore]
    public string Hash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToJson())));

    public static MemoInputs? FromJson(string json)
    {
        try { return JsonSerializer.Deserialize<MemoInputs>(json, Json); }
        catch (JsonException) { return null; }
    }

    /// <summary>What differs from <paramref name="before"/>, for a person: "dataset events v5 -> v6; files of new_events (61 files, was 60)".</summary>
    public string Differences(MemoInputs before)
    {
        var changes = new List<string>();
        if (Definition != before.Definition) changes.Add("the workflow file changed");
        Compare("parameter", Parameters, before.Parameters, changes);
        Compare("dataset", Datasets, before.Datasets, changes);
        Compare("files of step", Files, before.Files, changes);
        Compare("model", Models, before.Models, changes);
        return changes.Count == 0 ? "no difference" : string.Join("; ", changes);
    }

    static void Compare(string what, SortedDictionary<string, string> now, SortedDictionary<string, string> before, List<string> changes)
    {
        foreach (var (key, value) in now)
            if (!before.TryGetValue(key, out var old)) changes.Add($"{what} {key} is new ({Short(value)})");
            else if (old != value) changes.Add($"{what} {key}: {Short(value)}, was {Short(old)}");
        foreach (var key in before.Keys.Where(k => !now.ContainsKey(k))) changes.Add($"{what} {key} is gone");
    }

    // File digests end with a hash nobody reads; the count before it says enough.
    static string Short(string value) => value.Contains(" files ", StringComparison.Ordinal) ? value[..value.IndexOf(" files ", StringComparison.Ordinal)] + " files" : value;
}

/// <summary>Whether a workflow runs: up to date (with the run whose outputs stand) or not, and why.</summary>
public sealed record MemoDecision(bool UpToDate, string Explanation, MemoInputs? Inputs, string? SameAsRunId)
{
    /// <summary>True when an earlier run's fingerprint was compared (the run's log says what changed).</summary>
    public bool Compared { get; init; }

    public static MemoDecision Run(string why, MemoInputs? inputs = null) => new(false, why, inputs, null);
}

/// <summary>
/// Skip what is up to date: before a workflow runs, its <see cref="MemoInputs"/> are computed and compared with the
/// fingerprint its last successful run recorded after its commit. The same fingerprint, and no open stale mark on the
/// run that made the outputs, makes the workflow up to date: it is recorded so and not run. After a successful commit
/// the inputs are recorded as they stand then (the versions the workflow itself wrote replace those it read).
/// </summary>
public sealed class WorkflowMemo(RunContext run)
{
    /// <summary>
    /// Decides whether <paramref name="workflow"/> runs. A lake that cannot be listed is no reason to fail: the workflow
    /// runs (and its read reports the cause); a store that cannot be read fails the run, as any store failure does.
    /// </summary>
    public async Task<MemoDecision> DecideAsync(WorkflowDefinition workflow, CancellationToken ct)
    {
        if (!workflow.Memo) return MemoDecision.Run("memo: false");
        if (workflow.Steps.FirstOrDefault(s => !BuiltInKinds.Contains(s.Type)) is { } custom)
            return MemoDecision.Run($"step '{custom.Id}' is of kind '{custom.Type}', whose inputs the memo does not know");
        MemoInputs inputs;
        try
        {
            inputs = await InputsAsync(workflow, ct);
        }
        catch (Exception e) when (e is LakeStorageException or LakePathException or IOException or ParameterException or StepFailedException || StoreFailures.IsStoreFailure(e))
        {
            return MemoDecision.Run($"its inputs could not be listed ({run.Lake.Relativize(e.Message)})");
        }
        // Nothing to compare (a workflow of constants, or of SQL on the clock): it runs every time.
        if (inputs.Datasets.Count == 0 && inputs.Files.Count == 0 && inputs.Models.Count == 0) return MemoDecision.Run("it reads no dataset, lake file or model");
        var last = await run.Store.GetLatestFingerprintAsync(run.Project.Id, workflow.Name, ct);
        if (last is null) return MemoDecision.Run("no earlier successful run recorded its inputs", inputs);
        var producer = last.SameAsRunId ?? last.RunId;
        if (last.Fingerprint != inputs.Hash)
            return MemoDecision.Run($"inputs changed since run {producer}: " + (MemoInputs.FromJson(last.InputsJson) is { } before ? inputs.Differences(before) : "recorded differently"), inputs) with { Compared = true };
        if ((await run.Store.GetOpenStaleMarksAsync([producer], ct)).TryGetValue(producer, out var stale))
            return MemoDecision.Run($"same inputs as run {producer}, but its outputs are stale: {stale.Reason}", inputs) with { Compared = true };
        return new MemoDecision(true, $"same inputs as run {producer}", inputs, producer);
    }

    /// <summary>Records <paramref name="workflow"/> up to date in the run: the workflow run, its steps and the fingerprint.</summary>
    public async Task RecordUpToDateAsync(WorkflowDefinition workflow, int position, MemoDecision decision, DateTimeOffset started)
    {
        var none = CancellationToken.None;
        var ended = run.Clock.GetUtcNow();
        var details = JsonSerializer.Serialize(new Dictionary<string, string?> { ["up_to_date"] = decision.Explanation, ["same_as_run"] = decision.SameAsRunId });
        foreach (var step in workflow.Steps)
        {
            var stepRun = new StepRun { RunId = run.RunId, Workflow = workflow.Name, StepId = step.Id, Kind = step.Type, Status = RunStatus.UpToDate, StartedAt = started, EndedAt = ended, DetailsJson = details };
            await run.Store.SaveStepRunAsync(stepRun, none);
            run.Observer.StepFinished(stepRun);
        }
        await run.Store.SaveFingerprintAsync(new WorkflowFingerprint(run.RunId, workflow.Name, decision.Inputs!.Hash, decision.Inputs.ToJson(), decision.SameAsRunId, ended), none);
        await run.Store.SaveWorkflowRunAsync(new WorkflowRun { RunId = run.RunId, Workflow = workflow.Name, Position = position, Status = RunStatus.UpToDate, StartedAt = started, EndedAt = ended }, none);
        await run.LogAsync("info", workflow.Name, null, $"workflow '{workflow.Name}' is up to date ({decision.Explanation}); not run again", none);
    }

    /// <summary>
    /// Records the inputs of a workflow that committed: those it saw at its start, with the dataset versions it wrote
    /// and the models it registered or re-aliased as they are now (what its next run must find to be up to date).
    /// </summary>
    public async Task RecordCommittedAsync(WorkflowDefinition workflow, MemoInputs inputs, WorkflowCommit commit, CancellationToken ct)
    {
        var datasets = new SortedDictionary<string, string>(inputs.Datasets, StringComparer.Ordinal);
        foreach (var (version, _) in commit.DatasetVersions) datasets[version.Dataset] = Version(version.Version);
        var models = new SortedDictionary<string, string>(inputs.Models, StringComparer.Ordinal);
        foreach (var name in commit.Models.Select(m => m.Name).Concat(commit.AliasChanges.Select(a => a.Model)).Distinct(StringComparer.Ordinal))
            models[name] = await ModelStateAsync(name, ct);
        var after = inputs with { Datasets = datasets, Models = models };
        await run.Store.SaveFingerprintAsync(new WorkflowFingerprint(run.RunId, workflow.Name, after.Hash, after.ToJson(), null, run.Clock.GetUtcNow()), ct);
    }

    /// <summary>The inputs of <paramref name="workflow"/> as they stand now.</summary>
    public async Task<MemoInputs> InputsAsync(WorkflowDefinition workflow, CancellationToken ct)
    {
        var parameters = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var datasets = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var models = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var stepIds = workflow.Steps.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var step in workflow.Steps)
        {
            if (ImplicitRunDate.Contains(step.Type)) parameters[BuiltInParameters.RunDate] = ValueOf(BuiltInParameters.RunDate);
            foreach (var text in Scalars(step.Options))
                foreach (var reference in Template.FindReferences(text, run.Parameters.ContainsKey))
                    parameters[reference.Name] = ValueOf(reference.Name);
            foreach (var input in step.Inputs.Where(i => !stepIds.Contains(i)))
            {
                var (name, version) = DatasetReference.Parse(input);
                datasets[input] = await run.Store.GetDatasetVersionAsync(name, version, ct) is { } v ? Version(v.Version) : "none";
            }
            if (YamlNodeReader.Find(step.Options, "model") is YamlScalarNode { Value: { Length: > 0 } model })
            {
                var name = Template.Expand(model.Split('@')[0], run.Parameters);
                models[name] = await ModelStateAsync(name, ct);
            }
            if (!run.Catalog.TryGet(step.Type, out var kind)) continue;
            var parsed = kind.Parse(step, new YamlNodeReader(step.Location.File, [], step.Id));
            if (parsed is IDatasetProducer { Dataset.Length: > 0 } producer)
            {
                var name = Template.Expand(producer.Dataset, run.Parameters);
                datasets[name] = await run.Store.GetDatasetVersionAsync(name, null, ct) is { } v ? Version(v.Version) : "none";
            }
            if (parsed is ReadStep read)
                files[step.Id] = Digest(await LakeGlob.MatchAsync(run.Lake, PathTemplate.ExpandGlob(read.Path, run.Parameters), ct));
        }
        return new MemoInputs(workflow.DefinitionHash, parameters, datasets, files, models);
    }

    /// <summary>
    /// Step kinds whose output depends on run.date without naming it: reports publish under <c>reports/&lt;name&gt;/&lt;run.date&gt;/</c>,
    /// checks judge freshness and seasonal volume by it, evaluate picks the score dates whose horizon ended by it. A
    /// workflow with one of them counts run.date as a parameter.
    /// </summary>
    /// <summary>The built-in step kinds, whose inputs the memo knows (a host's own kinds may read anything).</summary>
    static readonly HashSet<string> BuiltInKinds = StepCatalog.Default.Kinds.Select(k => k.Name).ToHashSet(StringComparer.Ordinal);

    static readonly HashSet<string> ImplicitRunDate = new(["report", "model_report", "check", "evaluate"], StringComparer.Ordinal);

    // An environment variable's value may be a secret: only its hash is kept with the run.
    string ValueOf(string name)
    {
        try
        {
            var value = Template.Expand("${" + name + "}", run.Parameters);
            return name.StartsWith("env:", StringComparison.Ordinal) ? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..16] : value;
        }
        catch (ParameterException) { return "(unset)"; }
    }

    async Task<string> ModelStateAsync(string name, CancellationToken ct)
    {
        var latest = await run.Store.GetModelVersionAsync(name, null, null, ct);
        var aliases = await run.Store.GetAliasesAsync(name, ct);
        return (latest is null ? "none" : Version(latest.Version)) + string.Concat(aliases.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $" {a.Key}={Version(a.Value)}"));
    }

    static string Version(int version) => "v" + version.ToString(CultureInfo.InvariantCulture);

    static string Digest(IReadOnlyList<LakeFile> files)
    {
        var text = string.Join("\n", files.OrderBy(f => f.Path, StringComparer.Ordinal)
            .Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Path}\t{f.Size}\t{f.Modified.UtcTicks}\t{f.ETag}")));
        return string.Create(CultureInfo.InvariantCulture, $"{files.Count} files {Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16]}");
    }

    static IEnumerable<string> Scalars(YamlNode node) => node switch
    {
        YamlScalarNode { Value: { } value } => [value],
        YamlMappingNode map => map.Children.SelectMany(p => Scalars(p.Key).Concat(Scalars(p.Value))),
        YamlSequenceNode sequence => sequence.Children.SelectMany(Scalars),
        _ => [],
    };
}
