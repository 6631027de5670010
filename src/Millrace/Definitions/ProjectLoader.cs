using Millrace.Definitions.Options;
using Millrace.Definitions.Schema;
using Millrace.Parameters;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Millrace.Definitions;

/// <summary>
/// Reads <c>millrace.yaml</c>, <c>workflows/*.yaml</c> and <c>pipelines/*.yaml</c> into a <see cref="ProjectDefinition"/>.
/// Structural problems are collected (every one, with file, line and column); semantic checks are the
/// <see cref="ProjectValidator"/>'s.
/// </summary>
public static partial class ProjectLoader
{
    /// <summary>The project file name.</summary>
    public const string ProjectFileName = "millrace.yaml";

    /// <summary>The most steps a workflow may have.</summary>
    public const int MaxSteps = 1000;

    // The fields of each mapping are declared once, on the records the JSON Schema is generated from (Schema/).
    static readonly IReadOnlyList<string> ProjectFields = OptionsShape.Of<ProjectFileOptions>().Names;
    static readonly IReadOnlyList<string> WorkflowFields = OptionsShape.Of<WorkflowFileOptions>().Names;
    static readonly IReadOnlyList<string> PipelineFields = OptionsShape.Of<PipelineFileOptions>().Names;
    static readonly IReadOnlyList<string> ScheduleFields = OptionsShape.Of<ScheduleOptions>().Names;
    static readonly IReadOnlyList<string> ConcurrencyFields = OptionsShape.Of<ConcurrencyOptions>().Names;
    static readonly IReadOnlyList<string> RetryFields = OptionsShape.Of<RetryOptions>().Names;
    static readonly IReadOnlyList<string> NotifyFields = OptionsShape.Of<NotifyOptions>().Names;
    static readonly IReadOnlyList<string> LakeOptionFields = OptionsShape.Of<LakeOptions>().Names;

    /// <summary>The words a parameter's <c>type</c> may be (several spell the same type).</summary>
    public static readonly IReadOnlyList<string> ParameterTypeNames =
        ["string", "str", "int", "integer", "long", "double", "float", "number", "decimal", "bool", "boolean", "date", "timestamp", "datetime"];

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex IdentifierPattern();

    /// <summary>True for names usable as step ids, dataset, workflow and parameter names (letters, digits, underscore).</summary>
    public static bool IsIdentifier(string name) => IdentifierPattern().IsMatch(name);

    /// <summary>Finds the project folder: <paramref name="start"/> or the nearest parent holding millrace.yaml.</summary>
    public static string? FindProjectDirectory(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, ProjectFileName))) return dir.FullName;
        return null;
    }

    /// <summary>Loads the project in <paramref name="directory"/>; <paramref name="errors"/> receives every structural problem.</summary>
    public static ProjectDefinition Load(string directory, List<DefinitionError> errors)
    {
        directory = Path.GetFullPath(directory);
        var projectFile = Path.Combine(directory, ProjectFileName);
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        string id = Path.GetFileName(directory), name = id, lake = "./lake", landing = "raw";
        string? store = null, description = null;
        S3LakeLocation? s3Lake = null;
        IReadOnlyDictionary<string, ParameterDefinition> projectParameters = new Dictionary<string, ParameterDefinition>();
        IReadOnlyList<NotifyDefinition> projectNotify = [];

        if (!File.Exists(projectFile))
            errors.Add(new DefinitionError(new SourceLocation(ProjectFileName, 0, 0), null, $"no {ProjectFileName} in {directory}; run 'millrace init' to create a project"));
        else if (ReadDocument(directory, projectFile, errors, hash) is { } root)
        {
            var reader = new YamlNodeReader(ProjectFileName, errors);
            Safely(reader, root, () =>
            {
                reader.RejectUnknownKeys(root, ProjectFields, ProjectFileName);
                id = reader.String(root, "id", required: true) ?? id;
                if (!IsIdentifierOrDashed(id)) reader.Error(YamlNodeReader.Find(root, "id") ?? root, $"project id '{id}' may use letters, digits, '_' and '-' only");
                name = reader.String(root, "name") ?? id;
                description = reader.String(root, "description");
                (lake, s3Lake) = ReadLake(reader, root, lake);
                landing = (reader.String(root, "landing") ?? landing).Trim('/');
                if (landing.Length == 0 || landing.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(landing))
                    reader.Error(YamlNodeReader.Find(root, "landing") ?? root, $"landing must be a folder inside the lake such as raw, got '{landing}'");
                store = reader.String(root, "store");
                projectParameters = ReadParameters(reader, root);
                projectNotify = ReadNotify(reader, root);
            });
        }

        var workflows = new Dictionary<string, WorkflowDefinition>(StringComparer.Ordinal);
        foreach (var file in DefinitionFiles(directory, "workflows"))
        {
            if (ReadDocument(directory, file, errors, hash, out var text) is not { } root) continue;
            var reader = new YamlNodeReader(Relative(directory, file), errors);
            if (Safely(reader, root, () => ReadWorkflow(reader, root, Path.GetFileNameWithoutExtension(file), text)) is not { } workflow) continue;
            if (!workflows.TryAdd(workflow.Name, workflow))
                reader.Error(root, $"workflow '{workflow.Name}' is defined twice (also in {workflows[workflow.Name].Location.File})");
        }

        var pipelines = new Dictionary<string, PipelineDefinition>(StringComparer.Ordinal);
        foreach (var file in DefinitionFiles(directory, "pipelines"))
        {
            if (ReadDocument(directory, file, errors, hash) is not { } root) continue;
            var reader = new YamlNodeReader(Relative(directory, file), errors);
            if (Safely(reader, root, () => ReadPipeline(reader, root, Path.GetFileNameWithoutExtension(file))) is not { } pipeline) continue;
            if (!pipelines.TryAdd(pipeline.Name, pipeline))
                reader.Error(root, $"pipeline '{pipeline.Name}' is defined twice (also in {pipelines[pipeline.Name].Location.File})");
        }

        return new ProjectDefinition
        {
            Id = id,
            Name = name,
            Description = description,
            Landing = landing,
            Directory = directory,
            Lake = lake,
            S3Lake = s3Lake,
            Store = store,
            Parameters = projectParameters,
            Notify = projectNotify,
            Workflows = workflows,
            Pipelines = pipelines,
            DefinitionsHash = Convert.ToHexStringLower(hash.GetHashAndReset()),
        };
    }

    /// <summary>
    /// Reads one file's definition. Definition text must never crash the loader: an exception a reader did not
    /// expect becomes an error at the file's root (the loader's fuzz test checks that none is ever needed).
    /// </summary>
    static void Safely(YamlNodeReader reader, YamlNode root, Action read)
    {
        try
        {
            read();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            reader.Error(root, $"{ProjectValidator.InternalError} while reading this file ({e.GetType().Name}: {e.Message}); please report it");
        }
    }

    static T? Safely<T>(YamlNodeReader reader, YamlNode root, Func<T> read) where T : class
    {
        T? result = null;
        Safely(reader, root, () => { result = read(); });
        return result;
    }

    static bool IsIdentifierOrDashed(string id) => id.Length > 0 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    static IEnumerable<string> DefinitionFiles(string directory, string folder)
    {
        var path = Path.Combine(directory, folder);
        if (!System.IO.Directory.Exists(path)) return [];
        return System.IO.Directory.EnumerateFiles(path)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
    }

    static string Relative(string directory, string file) => Path.GetRelativePath(directory, file).Replace('\\', '/');

    static YamlMappingNode? ReadDocument(string directory, string file, List<DefinitionError> errors, IncrementalHash hash) =>
        ReadDocument(directory, file, errors, hash, out _);

    static YamlMappingNode? ReadDocument(string directory, string file, List<DefinitionError> errors, IncrementalHash hash, out string text)
    {
        var relative = Relative(directory, file);
        text = "";
        try
        {
            if (new FileInfo(file).Length > YamlDocuments.MaxFileBytes * 4L)
                throw new IOException($"the file is larger than {YamlDocuments.MaxFileBytes / 1024 / 1024} MiB, the limit for a definition file");
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add(new DefinitionError(new SourceLocation(relative, 0, 0), null, $"cannot read the file: {e.Message}"));
            return null;
        }
        hash.AppendData(Encoding.UTF8.GetBytes(relative + "\n" + text + "\n"));
        return YamlDocuments.Read(relative, text, errors);
    }

    static WorkflowDefinition ReadWorkflow(YamlNodeReader reader, YamlMappingNode root, string fileName, string text)
    {
        reader.RejectUnknownKeys(root, WorkflowFields, "a workflow");
        var name = reader.String(root, "name") ?? fileName;
        CheckName(reader, root, name, "workflow");
        var steps = new List<StepDefinition>();
        switch (YamlNodeReader.Find(root, "steps"))
        {
            case null: reader.Error(root, "missing required field 'steps'"); break;
            case YamlSequenceNode sequence:
                foreach (var item in sequence)
                {
                    if (item is not YamlMappingNode stepMap) { reader.Error(item, "each step must be a mapping with at least 'id' and 'type'"); continue; }
                    if (ReadStep(reader, stepMap) is { } step) steps.Add(step);
                }
                if (sequence.Children.Count == 0) reader.Error(sequence, "a workflow needs at least one step");
                if (sequence.Children.Count > MaxSteps) reader.Error(sequence, $"a workflow may have at most {MaxSteps} steps, this one has {sequence.Children.Count}; split it into several workflows");
                break;
            case var other: reader.Error(other, "'steps' must be a list"); break;
        }
        return new WorkflowDefinition
        {
            Name = name,
            Description = reader.String(root, "description"),
            Steps = steps,
            Parameters = ReadParameters(reader, root),
            MaxParallel = reader.Int(root, "max_parallel", min: 1) ?? 2,
            Memo = reader.Bool(root, "memo") ?? true,
            DefinitionHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))),
            Location = reader.At(root),
        };
    }

    static StepDefinition? ReadStep(YamlNodeReader reader, YamlMappingNode map)
    {
        var id = reader.String(map, "id", required: true);
        var type = reader.String(map, "type", required: true);
        if (id is null || type is null) return null;
        var stepReader = reader.ForStep(id);
        if (!IsIdentifier(id)) stepReader.Error(YamlNodeReader.Find(map, "id")!, $"step id '{id}' may use letters, digits and '_' only, and not start with a digit");
        var inputs = new List<(string Value, SourceLocation Location)>();
        inputs.AddRange(stepReader.StringList(map, "input"));
        inputs.AddRange(stepReader.StringList(map, "inputs"));
        return new StepDefinition
        {
            Id = id,
            Type = type,
            Inputs = inputs.Select(i => i.Value).ToList(),
            InputLocations = inputs.Select(i => i.Location).ToList(),
            Options = map,
            Location = reader.At(map),
        };
    }

    static PipelineDefinition ReadPipeline(YamlNodeReader reader, YamlMappingNode root, string fileName)
    {
        reader.RejectUnknownKeys(root, PipelineFields, "a pipeline");
        var name = reader.String(root, "name") ?? fileName;
        CheckName(reader, root, name, "pipeline");
        var workflows = reader.StringList(root, "workflows");
        if (workflows.Count == 0) reader.Error(root, "a pipeline needs 'workflows: [ ... ]' with at least one workflow");

        ScheduleDefinition? schedule = null;
        if (reader.Mapping(root, "schedule") is { } scheduleMap)
        {
            reader.RejectUnknownKeys(scheduleMap, ScheduleFields, "'schedule'");
            var cron = reader.String(scheduleMap, "cron", required: true);
            var timezone = reader.String(scheduleMap, "timezone") ?? "UTC";
            var misfire = reader.String(scheduleMap, "misfire");
            if (misfire is not null && misfire != "skip")
                reader.Error(YamlNodeReader.Find(scheduleMap, "misfire")!, $"'misfire' must be skip (to run missed fire times, write catch_up: N instead), got '{misfire}'");
            var catchUp = reader.Int(scheduleMap, "catch_up", min: 0) ?? 0;
            if (misfire is not null && catchUp > 0)
                reader.Error(YamlNodeReader.Find(scheduleMap, "catch_up")!, "write either 'misfire: skip' or 'catch_up: N', not both");
            if (cron is not null)
                schedule = new ScheduleDefinition(cron, timezone, reader.At(YamlNodeReader.Find(scheduleMap, "cron")!)) { CatchUp = catchUp };
        }

        var concurrency = new ConcurrencyDefinition(1, OverlapPolicy.Queue);
        if (reader.Mapping(root, "concurrency") is { } concurrencyMap)
        {
            reader.RejectUnknownKeys(concurrencyMap, ConcurrencyFields, "'concurrency'");
            var overlapText = reader.String(concurrencyMap, "on_overlap") ?? "queue";
            var overlap = overlapText switch { "queue" => OverlapPolicy.Queue, "skip" => OverlapPolicy.Skip, _ => (OverlapPolicy?)null };
            if (overlap is null) reader.Error(YamlNodeReader.Find(concurrencyMap, "on_overlap")!, $"'on_overlap' must be queue or skip, got '{overlapText}'");
            concurrency = new ConcurrencyDefinition(reader.Int(concurrencyMap, "max_active", min: 1) ?? 1, overlap ?? OverlapPolicy.Queue);
        }

        var retries = new RetryDefinition(0, TimeSpan.Zero);
        if (reader.Mapping(root, "retries") is { } retryMap)
        {
            reader.RejectUnknownKeys(retryMap, RetryFields, "'retries'");
            retries = new RetryDefinition(reader.Int(retryMap, "attempts", min: 0) ?? 0, reader.Duration(retryMap, "backoff", Durations.RetryBackoff) ?? TimeSpan.Zero);
        }

        return new PipelineDefinition
        {
            Name = name,
            Description = reader.String(root, "description"),
            Workflows = workflows.Select(w => w.Value).ToList(),
            WorkflowLocations = workflows.Select(w => w.Location).ToList(),
            Parameters = ReadParameters(reader, root),
            Schedule = schedule,
            Concurrency = concurrency,
            Retries = retries,
            Timeout = reader.Duration(root, "timeout", Durations.PipelineTimeout),
            RetrainWhen = ReadRetrainWhen(reader, root),
            Notify = ReadNotify(reader, root),
            Trigger = ReadTrigger(reader, root),
            Deadline = ReadDeadline(reader, root),
            Freshness = ReadFreshness(reader, root),
            Location = reader.At(root),
        };
    }

    /// <summary>
    /// Reads <c>notify:</c>: a list of <c>{ url, on: [events], secret }</c>. The URL must be http or https; the secret
    /// signs each delivery and is required (write <c>${env:NAME}</c> so it stays out of the definitions).
    /// </summary>
    static IReadOnlyList<NotifyDefinition> ReadNotify(YamlNodeReader reader, YamlMappingNode root)
    {
        var node = YamlNodeReader.Find(root, "notify");
        if (node is null) return [];
        if (node is not YamlSequenceNode list)
        {
            reader.Error(node, "'notify' must be a list of webhooks: - { url: https://…, on: [run.failed], secret: ${env:NAME} }");
            return [];
        }
        var result = new List<NotifyDefinition>();
        foreach (var item in list)
        {
            if (item is not YamlMappingNode map) { reader.Error(item, "each 'notify' entry must be a mapping with 'url' and 'secret'"); continue; }
            reader.RejectUnknownKeys(map, NotifyFields, "a 'notify' entry");
            var url = reader.String(map, "url", required: true);
            var secret = reader.String(map, "secret", required: true);
            if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
                reader.Error(YamlNodeReader.Find(map, "url")!, $"'url' must be an absolute http or https URL, got '{url}'");
            if (secret is not null && secret.Trim().Length == 0)
                reader.Error(YamlNodeReader.Find(map, "secret")!, "'secret' is empty; write ${env:NAME} and set the variable where the server runs");
            var events = reader.StringList(map, "on");
            foreach (var (name, location) in events)
                if (!NotifyEvents.Known.Contains(name, StringComparer.Ordinal))
                    reader.Errors.Add(new DefinitionError(location, null, $"unknown notify event '{name}' (known: {string.Join(", ", NotifyEvents.Known)})"));
            if (url is not null && secret is not null)
                result.Add(new NotifyDefinition(url, events.Count == 0 ? NotifyEvents.Default : events.Select(e => e.Value).Distinct(StringComparer.Ordinal).ToList(), secret, reader.At(map)));
        }
        return result;
    }

    static void CheckName(YamlNodeReader reader, YamlMappingNode root, string name, string what)
    {
        if (!IsIdentifier(name))
            reader.Error(YamlNodeReader.Find(root, "name") ?? root, $"{what} name '{name}' may use letters, digits and '_' only");
    }

    /// <summary>
    /// Reads <c>parameters:</c>: each entry is <c>name: { type, default, description }</c>, or <c>name: value</c>
    /// as a shorthand for a string parameter with that default.
    /// </summary>
    static IReadOnlyDictionary<string, ParameterDefinition> ReadParameters(YamlNodeReader reader, YamlMappingNode root)
    {
        var result = new Dictionary<string, ParameterDefinition>(StringComparer.Ordinal);
        if (reader.Mapping(root, "parameters") is not { } map) return result;
        foreach (var (keyNode, valueNode) in map.Children)
        {
            var name = (keyNode as YamlScalarNode)?.Value ?? "";
            if (!IsIdentifier(name)) { reader.Error(keyNode, $"parameter name '{name}' may use letters, digits and '_' only"); continue; }
            if (BuiltInParameters.IsBuiltIn(name)) { reader.Error(keyNode, $"'{name}' is a built-in parameter and cannot be declared"); continue; }
            var location = reader.At(keyNode);
            switch (valueNode)
            {
                case YamlScalarNode scalar:
                    result[name] = new ParameterDefinition(name, ParameterType.String, scalar.Value ?? "", null, location);
                    break;
                case YamlMappingNode spec:
                    reader.RejectUnknownKeys(spec, ["type", "default", "description"], $"parameter '{name}'");
                    var typeText = reader.String(spec, "type") ?? "string";
                    if (!TryParseType(typeText, out var type))
                        reader.Error(YamlNodeReader.Find(spec, "type")!, $"parameter '{name}': unknown type '{typeText}' (known: string, int, double, bool, date, timestamp)");
                    var defaultValue = YamlNodeReader.Find(spec, "default") is YamlScalarNode d ? d.Value ?? "" : null;
                    if (defaultValue is not null && !ParameterValues.TryConvert(defaultValue, type, out _, out var problem))
                        reader.Error(YamlNodeReader.Find(spec, "default")!, $"parameter '{name}': default {problem}");
                    result[name] = new ParameterDefinition(name, type, defaultValue, reader.String(spec, "description"), location);
                    break;
                default:
                    reader.Error(valueNode, $"parameter '{name}' must be a default value or a mapping with type/default/description");
                    break;
            }
        }
        return result;
    }

    static bool TryParseType(string text, out ParameterType type)
    {
        switch (text.ToLowerInvariant())
        {
            case "string" or "str": type = ParameterType.String; return true;
            case "int" or "integer" or "long": type = ParameterType.Int; return true;
            case "double" or "float" or "number" or "decimal": type = ParameterType.Double; return true;
            case "bool" or "boolean": type = ParameterType.Bool; return true;
            case "date": type = ParameterType.Date; return true;
            case "timestamp" or "datetime": type = ParameterType.Timestamp; return true;
            default: type = ParameterType.String; return false;
        }
    }
}
