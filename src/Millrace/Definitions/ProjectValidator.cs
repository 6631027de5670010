using Cronos;
using Millrace.Datasets;
using Millrace.Engine;
using Millrace.Lake;
using Millrace.Parameters;
using YamlDotNet.RepresentationModel;

namespace Millrace.Definitions;

/// <summary>
/// Checks a whole project before anything runs: unknown step kinds and options, duplicate ids, inputs that name
/// neither a step nor a dataset, cycles, undeclared parameters, unknown workflows, bad cron and time zones, and
/// columns where they can be known before running (<see cref="ColumnCheck"/>).
/// Every error is reported with file, line, column and step id.
/// </summary>
public static class ProjectValidator
{
    public static IReadOnlyList<DefinitionError> Validate(ProjectDefinition project, StepCatalog catalog)
    {
        var errors = new List<DefinitionError>();
        var parsedSteps = new Dictionary<(string Workflow, string Step), IStep>();
        foreach (var workflow in project.Workflows.Values)
            foreach (var step in workflow.Steps)
            {
                var reader = new YamlNodeReader(step.Location.File, errors, step.Id);
                if (!catalog.TryGet(step.Type, out var kind))
                {
                    var typeNode = YamlNodeReader.Find(step.Options, "type")!;
                    reader.Error(typeNode, $"unknown step kind '{step.Type}'{Suggest(step.Type, catalog.Kinds.Select(k => k.Name))} (known: {string.Join(", ", catalog.Kinds.Select(k => k.Name))}; see 'millrace steps')");
                    continue;
                }
                if (ParseStep(kind, step, reader) is { } parsed) parsedSteps[(workflow.Name, step.Id)] = parsed;
            }

        CheckModelReferences(project, parsedSteps, errors);
        CheckWritePaths(project, parsedSteps, errors);
        var datasets = parsedSteps.Values.OfType<IDatasetProducer>().Select(p => p.Dataset).Where(d => d.Length > 0).ToHashSet(StringComparer.Ordinal);
        var pipelinesByWorkflow = project.Pipelines.Values
            .SelectMany(p => p.Workflows.Select(w => (Workflow: w, Pipeline: p)))
            .ToLookup(x => x.Workflow, x => x.Pipeline);

        using var sqlCheck = new SqlReferenceCheck();
        var parameterTypes = new Dictionary<string, IReadOnlyDictionary<string, ParameterType>>(StringComparer.Ordinal);
        foreach (var workflow in project.Workflows.Values)
        {
            CheckSteps(workflow, datasets, errors);
            var declared = new HashSet<string>(project.Parameters.Keys.Concat(workflow.Parameters.Keys).Concat(BuiltInParameters.Names), StringComparer.Ordinal);
            foreach (var pipeline in pipelinesByWorkflow[workflow.Name]) declared.UnionWith(pipeline.Parameters.Keys);
            var types = project.Parameters.Values.Concat(workflow.Parameters.Values)
                .Concat(pipelinesByWorkflow[workflow.Name].SelectMany(p => p.Parameters.Values))
                .GroupBy(p => p.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Type, StringComparer.Ordinal);
            types[BuiltInParameters.RunDate] = ParameterType.Date;
            types[BuiltInParameters.RunTime] = ParameterType.Timestamp;
            foreach (var name in declared) types.TryAdd(name, ParameterType.String);
            parameterTypes[workflow.Name] = types;
            foreach (var step in workflow.Steps)
            {
                var reader = new YamlNodeReader(step.Location.File, errors, step.Id);
                CheckReferences(step.Options, declared, reader);
                sqlCheck.Check(step, types, reader);
            }
        }

        foreach (var pipeline in project.Pipelines.Values)
        {
            for (var i = 0; i < pipeline.Workflows.Count; i++)
                if (!project.Workflows.ContainsKey(pipeline.Workflows[i]))
                    errors.Add(new DefinitionError(pipeline.WorkflowLocations[i], null,
                        $"pipeline '{pipeline.Name}' names workflow '{pipeline.Workflows[i]}', which does not exist{Suggest(pipeline.Workflows[i], project.Workflows.Keys)}"));
            if (pipeline.RetrainWhen is { } retrain && !project.Pipelines.ContainsKey(retrain.Pipeline))
                errors.Add(new DefinitionError(retrain.Location, null, $"retrain_when names pipeline '{retrain.Pipeline}', which does not exist{Suggest(retrain.Pipeline, project.Pipelines.Keys)}"));
            else if (pipeline.RetrainWhen is { Metric: { } metric } watched)
                CheckRetrainMetric(project, watched.Pipeline, metric, errors);
            if (pipeline.Schedule is { } schedule)
            {
                if (!TryParseCron(schedule.Cron, out var problem))
                    errors.Add(new DefinitionError(schedule.Location, null, $"bad cron '{schedule.Cron}': {problem} (5 fields: minute hour day-of-month month day-of-week; or 6 with seconds first)"));
                if (!TryFindTimeZone(schedule.Timezone))
                    errors.Add(new DefinitionError(schedule.Location, null, $"unknown time zone '{schedule.Timezone}' (use an IANA name such as UTC or Europe/Paris)"));
            }
        }

        foreach (var name in project.Workflows.Keys.Intersect(project.Pipelines.Keys))
            errors.Add(new DefinitionError(project.Pipelines[name].Location, null, $"'{name}' names both a pipeline and a workflow; 'millrace run {name}' would be ambiguous, rename one"));

        // Columns are checked on definitions that are otherwise sound: a missing input or a cycle would only add noise.
        if (errors.Count == 0)
        {
            var columnCheck = new ColumnCheck(sqlCheck.Connection);
            foreach (var workflow in project.Workflows.Values)
                columnCheck.Check(workflow, parsedSteps.Where(p => p.Key.Workflow == workflow.Name).ToDictionary(p => p.Key.Step, p => p.Value, StringComparer.Ordinal),
                    parameterTypes[workflow.Name], errors);
        }

        return errors.OrderBy(e => e.Location.File, StringComparer.Ordinal).ThenBy(e => e.Location.Line).ThenBy(e => e.Location.Column).ToList();
    }

    /// <summary>A predict, model_report or drift step's model (when written without parameters) must be registered by some train step of the project.</summary>
    static void CheckModelReferences(ProjectDefinition project, Dictionary<(string Workflow, string Step), IStep> parsedSteps, List<DefinitionError> errors)
    {
        var models = parsedSteps.Values.OfType<IModelProducer>().Select(p => p.ModelName).ToHashSet(StringComparer.Ordinal);
        foreach (var workflow in project.Workflows.Values)
            foreach (var step in workflow.Steps)
            {
                var model = parsedSteps.GetValueOrDefault((workflow.Name, step.Id)) switch
                {
                    Steps.PredictStep predict => predict.Model,
                    Steps.ModelReportStep report => report.Model,
                    Steps.DriftStep drift => drift.Model,
                    _ => null,
                };
                if (model is null || model.Contains('$', StringComparison.Ordinal)) continue;
                var name = Learning.ModelReference.Parse(model).Name;
                if (!models.Contains(name))
                    new YamlNodeReader(step.Location.File, errors, step.Id).Error(YamlNodeReader.Find(step.Options, "model")!,
                        $"unknown model '{name}': no train step of the project registers it{Suggest(name, models)}");
            }
    }

    /// <summary>
    /// <c>retrain_when.metric</c> watches the champion of the one model the training pipeline registers, and must be a
    /// realized metric of that model's task.
    /// </summary>
    static void CheckRetrainMetric(ProjectDefinition project, string pipeline, RetrainMetricDefinition metric, List<DefinitionError> errors)
    {
        var models = RetrainModels.Of(project, pipeline);
        if (models.Count != 1)
        {
            errors.Add(new DefinitionError(metric.Location, null, models.Count == 0
                ? $"retrain_when.metric watches the champion of the model pipeline '{pipeline}' trains, but no train step of it registers a model"
                : $"retrain_when.metric watches the champion of the model pipeline '{pipeline}' trains, but it trains {models.Count} ({string.Join(", ", models.Select(m => m.Name))}); train one model per retraining pipeline"));
            return;
        }
        if (models[0].Task is { } taskText && Enum.TryParse<Storage.ModelTask>(taskText, ignoreCase: true, out var task)
            && !Learning.RealizedMetrics.Names(task).Contains(metric.Name, StringComparer.Ordinal))
            errors.Add(new DefinitionError(metric.Location, null,
                $"retrain_when.metric '{metric.Name}' is not a realized metric of {taskText} model '{models[0].Name}' ({string.Join(", ", Learning.RealizedMetrics.Names(task).Where(Learning.RealizedMetrics.Comparable.Contains))})"));
    }

    /// <summary>Parses a cron expression of 5 fields, or 6 with seconds first.</summary>
    public static bool TryParseCron(string cron, out string problem)
    {
        problem = "";
        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields is not (5 or 6)) { problem = $"has {fields} fields"; return false; }
        try
        {
            CronExpression.Parse(cron, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
            return true;
        }
        catch (CronFormatException e)
        {
            problem = e.Message;
            return false;
        }
    }

    /// <summary>
    /// A write step's path (or, with parameters, its fixed folders before the first parameter) may not name the
    /// landing zone or a folder Millrace manages, however it is spelled (<c>exports/../raw/</c>, <c>./RAW//x</c>).
    /// </summary>
    static void CheckWritePaths(ProjectDefinition project, Dictionary<(string Workflow, string Step), IStep> parsedSteps, List<DefinitionError> errors)
    {
        foreach (var workflow in project.Workflows.Values)
            foreach (var step in workflow.Steps)
            {
                if (parsedSteps.GetValueOrDefault((workflow.Name, step.Id)) is not Steps.WriteStep { Path: { } path }) continue;
                var parameterized = path.Contains('$', StringComparison.Ordinal);
                if ((parameterized ? LakePath.FixedPrefix(path) : path) is not { } fixedPart) continue;
                string folded;
                try { folded = LakePath.Fold(fixedPart); }
                catch (LakePathException) { continue; } // the step's own check reported it
                try
                {
                    if (parameterized) LakePath.CheckNotReserved(folded, path, project.Landing);
                    else LakePath.CheckWritable(folded, path, project.Landing);
                }
                catch (LakePathException e)
                {
                    new YamlNodeReader(step.Location.File, errors, step.Id).Error(YamlNodeReader.Find(step.Options, "path")!, e.Message);
                }
            }
    }

    /// <summary>
    /// Runs a step kind's parser. Definition text must never crash validation: an exception a parser did not expect
    /// becomes an error at the step (the loader's fuzz test checks that none is ever needed).
    /// </summary>
    static IStep? ParseStep(StepKind kind, StepDefinition step, YamlNodeReader reader)
    {
        try
        {
            return kind.Parse(step, reader);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            reader.Error(step.Options, $"{InternalError} while checking this {kind.Name} step ({e.GetType().Name}: {e.Message}); please report it");
            return null;
        }
    }

    /// <summary>How an unexpected exception during checking starts its error message.</summary>
    public const string InternalError = "internal error";

    internal static bool TryFindTimeZone(string id)
    {
        try { TimeZoneInfo.FindSystemTimeZoneById(id); return true; }
        catch (TimeZoneNotFoundException) { return false; }
        catch (InvalidTimeZoneException) { return false; }
    }

    static void CheckSteps(WorkflowDefinition workflow, HashSet<string> datasets, List<DefinitionError> errors)
    {
        var ids = new Dictionary<string, StepDefinition>(StringComparer.Ordinal);
        foreach (var step in workflow.Steps)
            if (!ids.TryAdd(step.Id, step))
                errors.Add(new DefinitionError(step.Location, step.Id, $"duplicate step id '{step.Id}' in workflow '{workflow.Name}' (first at line {ids[step.Id].Location.Line})"));

        foreach (var step in workflow.Steps)
            for (var i = 0; i < step.Inputs.Count; i++)
            {
                var input = step.Inputs[i];
                if (input == step.Id) { errors.Add(new DefinitionError(step.InputLocations[i], step.Id, "a step cannot be its own input")); continue; }
                if (ids.ContainsKey(input)) continue;
                if (!DatasetReference.TryParse(input, out var name, out _))
                {
                    errors.Add(new DefinitionError(step.InputLocations[i], step.Id, $"'{input}' is not a step id or dataset reference (name or name@vN)"));
                    continue;
                }
                if (!datasets.Contains(name))
                    errors.Add(new DefinitionError(step.InputLocations[i], step.Id,
                        $"unknown input '{input}': no step in workflow '{workflow.Name}' and no dataset written by any step of the project has that name{Suggest(name, ids.Keys.Concat(datasets))}"));
            }

        foreach (var cycle in FindCycles(workflow.Steps, ids))
        {
            var first = ids[cycle[0]];
            errors.Add(new DefinitionError(first.Location, first.Id, $"steps form a cycle: {string.Join(" -> ", cycle.Append(cycle[0]))}"));
        }
    }

    static IEnumerable<List<string>> FindCycles(IReadOnlyList<StepDefinition> steps, Dictionary<string, StepDefinition> ids)
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 = on the path, 2 = done
        var path = new List<string>();
        var cycles = new List<List<string>>();
        void Visit(string id)
        {
            state[id] = 1;
            path.Add(id);
            foreach (var input in ids[id].Inputs.Where(ids.ContainsKey))
            {
                if (!state.TryGetValue(input, out var s)) Visit(input);
                else if (s == 1) cycles.Add(path.Skip(path.IndexOf(input)).Reverse().ToList());
            }
            path.RemoveAt(path.Count - 1);
            state[id] = 2;
        }
        foreach (var step in steps)
            if (!state.ContainsKey(step.Id)) Visit(step.Id);
        return cycles;
    }

    static void CheckReferences(YamlNode node, HashSet<string> declared, YamlNodeReader reader)
    {
        switch (node)
        {
            case YamlScalarNode { Value: { } text } scalar:
                foreach (var reference in Template.FindReferences(text, declared.Contains))
                {
                    if (reference.Name.StartsWith("env:", StringComparison.Ordinal) || declared.Contains(reference.Name)) continue;
                    reader.Error(scalar, $"undeclared parameter '${reference.Name}': declare it under 'parameters:' in the workflow or its pipeline{Suggest(reference.Name, declared)}");
                }
                break;
            case YamlMappingNode mapping:
                foreach (var (_, value) in mapping.Children) CheckReferences(value, declared, reader);
                break;
            case YamlSequenceNode sequence:
                foreach (var item in sequence) CheckReferences(item, declared, reader);
                break;
        }
    }

    /// <summary>"; did you mean 'x'?" for the closest candidate within two edits, else "".</summary>
    internal static string Suggest(string name, IEnumerable<string> candidates)
    {
        var best = candidates.Distinct().Where(c => Math.Abs(c.Length - name.Length) <= 2).Select(c => (c, d: Distance(name, c))).Where(x => x.d <= 2 && x.d < name.Length).OrderBy(x => x.d).FirstOrDefault();
        return best.c is null ? "" : $"; did you mean '{best.c}'?";
    }

    static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
            for (var j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}
