using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Millrace.Datasets;
using Millrace.Definitions;
using Millrace.Definitions.Options;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Learning;
using Millrace.Parameters;
using Millrace.Storage;
using YamlDotNet.RepresentationModel;

namespace Millrace.Steps;

/// <summary>
/// <c>train</c>: trains an ML.NET model on the step's input, evaluates it on a holdout, registers it as the next
/// version of <c>model</c> and runs the promotion gate: the current champion is scored on the same holdout, and the
/// new version becomes champion only if it beats it by <c>min_improvement</c> (else it becomes challenger, with the
/// reason recorded). The registration and the alias change commit with the run, like everything else.
/// The output is one row per metric of the new version.
/// </summary>
public sealed partial class TrainStep : IStep, IModelProducer
{
    public required string Model { get; init; }
    public string ModelName => Model;
    public required ModelTask Task { get; init; }
    public required string Label { get; init; }
    public IReadOnlyList<string> Include { get; init; } = [];
    public IReadOnlyList<string> Exclude { get; init; } = [];
    public required string Algorithm { get; init; }
    public IReadOnlyDictionary<string, double> Options { get; init; } = new Dictionary<string, double>();
    public string Validation { get; init; } = "random";
    public double HoldoutFraction { get; init; } = 0.2;
    public string? SplitColumn { get; init; }
    public int Folds { get; init; } = 5;
    public int Seed { get; init; } = 42;
    public required string PromoteMetric { get; init; }
    public double MinImprovement { get; init; }
    /// <summary>Metric -> signed allowance against the champion (<c>promote.guard</c>).</summary>
    public IReadOnlyDictionary<string, double> Guard { get; init; } = new Dictionary<string, double>();
    /// <summary>How long after <see cref="HorizonColumn"/> a row's label becomes known; null: every labelled row is used.</summary>
    public TimeSpan? Horizon { get; init; }
    public string? HorizonColumn { get; init; }
    public string PromoteAlias { get; init; } = ModelRegistry.Champion;
    public int CategoricalThreshold { get; init; } = 50;

    public static StepKind Kind { get; } = StepKind.Create<TrainOptions>(
        "train",
        "Train an ML.NET model (LightGBM, FastTree, SDCA, logistic), evaluate it on a holdout, register it and promote it only if it beats the champion.",
        Parse);

    static IStep? Parse(StepDefinition definition, YamlNodeReader reader, TrainOptions o)
    {
        var map = definition.Options;
        if (definition.Inputs.Count != 1) reader.Error(map, $"a train step needs exactly one input (the training data), has {definition.Inputs.Count}");
        var model = YamlNodeReader.Find(map, "model") is YamlScalarNode ? o.Model : null;
        if (model is not null && !ProjectLoader.IsIdentifier(model)) reader.Error(YamlNodeReader.Find(map, "model")!, $"model name '{model}' may use letters, digits and '_' only");
        ModelTask? task = YamlNodeReader.Find(map, "task") is YamlScalarNode { Value: var taskText } && OptionsShape.ChoiceName(o.Task) == taskText ? o.Task : null;
        var taskName = task is { } known ? OptionsShape.ChoiceName(known) : null;
        var label = YamlNodeReader.Find(map, "label") is YamlScalarNode ? o.Label : null;
        var algorithm = OptionsShape.ChoiceName(o.Algorithm);
        if (task is { } t && !ModelBuilder.Algorithms[t].Contains(algorithm))
            reader.Error(YamlNodeReader.Find(map, "algorithm")!, $"algorithm '{algorithm}' is not available for {taskName} (choose {string.Join(", ", ModelBuilder.Algorithms[t])})");

        var options = new Dictionary<string, double>(StringComparer.Ordinal);
        if (o.Options is { } trainer)
            foreach (var (name, value) in new[] { ("iterations", trainer.Iterations), ("learning_rate", trainer.LearningRate), ("leaves", trainer.Leaves), ("min_child", trainer.MinChild), ("l2", trainer.L2) })
                if (value is { } v) options[name] = v;

        var validation = o.Validation ?? new ValidationOptions();
        if (validation.Method == ValidationMethod.Time && validation.Column is null or "")
            reader.Error(YamlNodeReader.Find(map, "validation")!, "time validation needs 'column' (the time to split on)");

        var promote = o.Promote ?? new PromoteOptions();
        var metric = promote.Metric ?? task switch { ModelTask.Multiclass => "macro_accuracy", ModelTask.Regression => "rmse", _ => "auc" };
        if (promote.Metric is not null && task is { } pt && !ModelBuilder.MetricNames(pt).Contains(metric))
            reader.Error(YamlNodeReader.Find((YamlMappingNode)YamlNodeReader.Find(map, "promote")!, "metric")!, $"metric '{metric}' is not a {taskName} metric ({string.Join(", ", ModelBuilder.MetricNames(pt))})");
        var guard = promote.Guard?.Allowances() ?? new Dictionary<string, double>();
        if (task is { } gt && YamlNodeReader.Find(map, "promote") is YamlMappingNode promoteMap && YamlNodeReader.Find(promoteMap, "guard") is YamlMappingNode guardMap)
            foreach (var name in guard.Keys.Where(g => !ModelBuilder.MetricNames(gt).Contains(g)))
                reader.Error(YamlNodeReader.Find(guardMap, name)!, $"guard metric '{name}' is not a {taskName} metric ({string.Join(", ", ModelBuilder.MetricNames(gt))})");
        var (horizon, horizonColumn) = ParseHorizon(map, reader, o, validation);
        if (model is null || task is null || label is null) return null;
        return new TrainStep
        {
            Model = model, Task = task.Value, Label = label, Include = o.Features.Include, Exclude = o.Features.Exclude, Algorithm = algorithm, Options = options,
            Validation = OptionsShape.ChoiceName(validation.Method), HoldoutFraction = validation.Fraction, SplitColumn = validation.Column is { Length: > 0 } c ? c : null,
            Folds = validation.Folds, Seed = validation.Seed,
            PromoteMetric = metric, MinImprovement = promote.MinImprovement, PromoteAlias = promote.Alias, CategoricalThreshold = o.CategoricalThreshold,
            Guard = guard, Horizon = horizon, HorizonColumn = horizonColumn,
        };
    }

    public async ValueTask<StepResult> ExecuteAsync(StepContext context, CancellationToken ct)
    {
        var connection = context.Connection;
        var input = context.SingleInput;
        var started = context.Clock.GetTimestamp();
        var phases = new Dictionary<string, long>(StringComparer.Ordinal);
        void Phase(string name) { phases[name + "_ms"] = (long)context.Clock.GetElapsedTime(started).TotalMilliseconds - phases.Values.Sum(); }
        var table = $"__train_{context.Step.Id}";
        var relation = SqlText.Identifier(table);
        var schema = DuckDb.Describe(connection, input);
        if (!schema.Any(c => c.Name == Label)) throw new StepFailedException($"label column '{Label}' is not in the input (columns: {string.Join(", ", schema.Select(c => c.Name))})");
        if (SplitColumn is not null && !schema.Any(c => c.Name == SplitColumn)) throw new StepFailedException($"validation column '{SplitColumn}' is not in the input");

        // Rows whose outcome cannot be known by run.date are left out before anything else (no leakage).
        var cut = await HorizonAsync(context, input, schema, ct);
        // The split is computed once in SQL, so the new model and the champion are judged on the very same rows.
        var labelled = $"SELECT * FROM {input} WHERE {SqlText.Identifier(Label)} IS NOT NULL{(cut is null ? "" : " AND " + cut.Filter)}";
        // Without a split column, a row's key is its number; numbered once, in a subquery, since it is hashed twice.
        var numbered = Validation != "time" && SplitColumn is null;
        // With a horizon, the time holdout is the newest of the rows kept (the quantile over the rows left out would hold out fewer).
        var splitSource = cut is null ? input : $"({labelled})";
        await DuckDb.ExecuteAsync(connection, numbered
            ? $"CREATE TABLE {relation} AS SELECT * EXCLUDE (__row), {SplitExpression(splitSource)} AS __fold FROM (SELECT *, row_number() OVER () AS __row FROM ({labelled}))"
            : $"CREATE TABLE {relation} AS SELECT *, {SplitExpression(splitSource)} AS __fold FROM ({labelled})", ct);
        var dropped = await DuckDb.CountAsync(connection, input, ct) - await DuckDb.CountAsync(connection, relation, ct) - (cut?.Dropped ?? 0);
        if (dropped > 0) await context.LogAsync($"left out {dropped} row(s) with a NULL label '{Label}'", ct, "warn");
        var features = FeaturePlan.Plan(connection, relation, Label, Include, Exclude.Append("__fold").ToList(), CategoricalThreshold);
        var columns = ModelBuilder.ViewColumns(features, Task, Label, hasLabel: true);
        // Training inputs the model's latest version was trained on already: registering again would make a copy.
        var fingerprint = await TrainingFingerprintAsync(connection, relation, features, ct);
        if (await context.Store.GetModelVersionAsync(Model, null, null, ct) is { TrainingFingerprint: { } previous } last && previous == fingerprint)
            return await UnchangedAsync(context, last, relation, ct);
        var ml = new MLContext(Seed);
        var pipeline = ModelBuilder.Pipeline(ml, features, Task, Algorithm, Options, Seed);
        Phase("prepare");

        ITransformer model;
        Dictionary<string, double> metrics;
        IReadOnlyList<IReadOnlyList<double>>? confusion;
        long trainRows, holdoutRows;
        IDataView? scoredHoldout = null;
        var trainView = new DuckDbDataView(connection, relation, columns, Validation == "kfold" ? null : "__fold <> 0");
        if (Validation == "kfold")
        {
            (metrics, confusion) = await Task_(() => CrossValidate(ml, connection, relation, columns, pipeline), ct);
            model = await Task_(() => pipeline.Fit(trainView), ct);
            trainRows = holdoutRows = trainView.GetRowCount() ?? 0;
        }
        else
        {
            var holdout = new DuckDbDataView(connection, relation, columns, "__fold = 0");
            trainRows = trainView.GetRowCount() ?? 0;
            holdoutRows = holdout.GetRowCount() ?? 0;
            if (trainRows == 0 || holdoutRows == 0) throw new StepFailedException($"not enough rows to train and evaluate: {trainRows} for training, {holdoutRows} in the holdout");
            model = await Task_(() => pipeline.Fit(trainView), ct);
            Phase("fit");
            // Cached as the evaluation reads it, so the drift reference below takes the holdout's scores from memory
            // instead of scoring the holdout a second time.
            var scored = ml.Data.Cache(model.Transform(holdout));
            scoredHoldout = scored;
            (metrics, confusion) = await Task_(() => ModelBuilder.EvaluatePredictions(ml, scored, Task), ct);
        }
        Phase("evaluate");
        var importance = ModelBuilder.Importance(model, trainView.Schema, features);

        // The promotion gate: the champion is re-scored on the same holdout.
        var registry = new ModelRegistry(context.Store, context.Lake);
        var champion = await context.Store.GetModelVersionAsync(Model, null, PromoteAlias, ct);
        var latest = await context.Store.GetModelVersionAsync(Model, null, null, ct);
        var version = (latest?.Version ?? 0) + 1;
        var (promoted, reason, championMetric, championMetrics) = await GateAsync(context, ml, registry, champion, relation, metrics, ct);
        Phase("gate");
        var aliases = await context.Store.GetAliasesAsync(Model, ct);
        var targetAlias = promoted ? PromoteAlias : ModelRegistry.Challenger;
        int? currentAtAlias = aliases.TryGetValue(targetAlias, out var c) ? c : null;
        var change = new AliasChange(Model, targetAlias, version, currentAtAlias, $"run {context.RunId}", reason);

        // The model file and its metadata are staged and published by the commit, with the registration.
        var path = $"models/{Model}/v{version}/model.zip";
        var staging = Path.Combine(context.Lake.StagingRoot, context.RunId, context.Workflow, context.Step.Id);
        Directory.CreateDirectory(staging);
        var stagedModel = Path.Combine(staging, "model.zip");
        await using (var stream = File.Create(stagedModel)) ml.Model.Save(model, trainView.Schema, stream);
        var datasets = context.Commit.DatasetsRead;
        var options = Options.ToDictionary(p => p.Key, p => p.Value.ToString(CultureInfo.InvariantCulture), StringComparer.Ordinal);
        options["validation"] = Validation == "kfold" ? $"kfold {Folds}" : $"{Validation} {HoldoutFraction.ToString(CultureInfo.InvariantCulture)}{(SplitColumn is null ? "" : " by " + SplitColumn)}";
        options["seed"] = Seed.ToString(CultureInfo.InvariantCulture);
        var registration = new ModelVersion
        {
            Name = Model, Version = version, RunId = context.RunId, Workflow = context.Workflow, StepId = context.Step.Id, CreatedAt = context.Clock.GetUtcNow(),
            Task = Task, Algorithm = Algorithm, Label = Label, Path = path, Metrics = metrics, Options = options, Features = features, Datasets = datasets,
            Importance = importance, DefinitionsHash = context.Project.DefinitionsHash, TrainRows = trainRows, HoldoutRows = holdoutRows,
            Profile = Profile(connection, relation, features, scoredHoldout ?? model.Transform(new DuckDbDataView(connection, relation, columns))),
            TrainingFingerprint = fingerprint,
        };
        var stagedMetadata = Path.Combine(staging, "metadata.json");
        await File.WriteAllTextAsync(stagedMetadata, JsonSerializer.Serialize(new { registration, confusion, decision = new { promoted, alias = targetAlias, reason, champion = champion?.Version, champion_metric = championMetric, champion_metrics = championMetrics, guard = Guard } },
            MetadataJson), ct);
        context.Commit.AddStagedFile(new StagedFile(context.Lake.ToRelative(stagedModel), path));
        context.Commit.AddStagedFile(new StagedFile(context.Lake.ToRelative(stagedMetadata), $"models/{Model}/v{version}/metadata.json"));
        if (Task == ModelTask.Binary && scoredHoldout is not null) await StageHoldoutAsync(context, scoredHoldout, staging, path, ct);
        context.Commit.AddModel(registration, [change]);
        Phase("save");

        await context.LogAsync($"{Model} v{version} ({Algorithm}, {trainRows} training rows, {holdoutRows} holdout rows): " +
            string.Join(", ", ModelBuilder.MetricNames(Task).Select(m => $"{m} {ModelBuilder.Format(metrics[m])}")) +
            $"; {(promoted ? "promoted to " + PromoteAlias : "kept as challenger")}: {reason}", ct);
        await DuckDb.ExecuteAsync(connection, $"""
            CREATE TABLE {context.OutputTable} (model VARCHAR, version INTEGER, metric VARCHAR, value DOUBLE, champion_value DOUBLE, promoted BOOLEAN);
            INSERT INTO {context.OutputTable} VALUES {string.Join(", ", metrics.Select(m => $"({SqlText.Quote(Model)}, {version}, {SqlText.Quote(m.Key)}, {Literal(m.Value)}, {(m.Key == PromoteMetric && championMetric is { } cm ? Literal(cm) : "NULL")}, {(promoted ? "TRUE" : "FALSE")})"))};
            DROP TABLE {relation};
            """, ct);
        return new StepResult(trainRows + holdoutRows, new Dictionary<string, object?>
        {
            ["model"] = Model, ["version"] = version, ["promoted"] = promoted, ["alias"] = targetAlias, ["reason"] = reason,
            ["metric"] = PromoteMetric, ["value"] = metrics[PromoteMetric], ["champion"] = champion?.Version, ["champion_value"] = championMetric,
            ["champion_metrics"] = championMetrics, ["guard"] = Guard.Count == 0 ? null : Guard,
            ["train_rows"] = trainRows, ["holdout_rows"] = holdoutRows, ["metrics"] = metrics, ["registered"] = true,
            ["importance"] = importance.Take(10).ToDictionary(p => p.Key, p => p.Value),
            ["timings"] = phases,
            ["horizon"] = cut?.Details(),
        });
    }

    (Dictionary<string, double>, IReadOnlyList<IReadOnlyList<double>>?) CrossValidate(MLContext ml, DuckDB.NET.Data.DuckDBConnection connection, string relation,
        IReadOnlyList<DataViewColumn> columns, IEstimator<ITransformer> pipeline)
    {
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var fold = 0; fold < Folds; fold++)
        {
            var model = pipeline.Fit(new DuckDbDataView(connection, relation, columns, $"__fold <> {fold}"));
            var (metrics, _) = ModelBuilder.Evaluate(ml, model, new DuckDbDataView(connection, relation, columns, $"__fold = {fold}"), Task);
            foreach (var (name, value) in metrics) sums[name] = sums.GetValueOrDefault(name) + value / Folds;
        }
        return (sums, null);
    }

    /// <summary>
    /// The drift reference saved with the model: each feature's distribution in the training rows and the score
    /// distribution on the holdout (the <c>__prediction__</c> profile).
    /// </summary>
    IReadOnlyList<Quality.FeatureProfile> Profile(DuckDB.NET.Data.DuckDBConnection connection, string relation, IReadOnlyList<FeatureColumn> features, IDataView scored)
    {
        var training = Validation == "kfold" ? null : "__fold <> 0";
        var profiles = Quality.DriftProfile.Profile(connection, relation,
            features.Where(f => f.Role is not (FeaturePlan.Date or FeaturePlan.Timestamp)).Select(f => (f.Name, f.Role != FeaturePlan.Categorical)), training).ToList();
        var scoreColumn = Task == ModelTask.Binary ? "Probability" : Task == ModelTask.Regression ? "Score" : null;
        if (scoreColumn is null) return profiles;
        var scores = new List<float>();
        using (var cursor = scored.GetRowCursor([scored.Schema[scoreColumn]]))
        {
            var getter = cursor.GetGetter<float>(scored.Schema[scoreColumn]);
            float value = 0;
            while (cursor.MoveNext()) { getter(ref value); scores.Add(value); }
        }
        var table = SqlText.Identifier($"__scores_{Model}");
        DuckDb.Execute(connection, $"CREATE TABLE {table} (\"__prediction__\" DOUBLE)");
        using (var appender = connection.CreateAppender($"__scores_{Model}"))
            foreach (var score in scores) appender.CreateRow().AppendValue((double)score).EndRow();
        profiles.AddRange(Quality.DriftProfile.Profile(connection, table, [("__prediction__", true)]));
        DuckDb.Execute(connection, $"DROP TABLE {table}");
        return profiles;
    }

    /// <summary>The fold of each row of <paramref name="input"/>: 0 is the holdout. Deterministic, so reruns split the same way.</summary>
    string SplitExpression(string input)
    {
        if (Validation == "time")
        {
            var column = SqlText.Identifier(SplitColumn!);
            return $"CASE WHEN {column} >= (SELECT quantile_disc({column}, {Literal(1 - HoldoutFraction)}) FROM {input}) THEN 0 ELSE 1 END";
        }
        var key = SplitColumn is null ? "__row" : SqlText.Identifier(SplitColumn);
        var text = $"CAST({key} AS VARCHAR) || '-{Seed}'";
        return Validation == "kfold"
            ? $"CAST({HashModulo(text, Folds)} AS INTEGER)"
            : $"CASE WHEN {HashModulo(text, 10000)} < {(int)Math.Round(HoldoutFraction * 10000)} THEN 0 ELSE 1 END";
    }

    /// <summary>
    /// <c>md5_number(text) % modulus</c>, computed from the hash's two 64-bit halves (DuckDB's md5_number is
    /// lower * 2^64 + upper): the same fold for every row, but DuckDB's 128-bit modulo took 5 µs a row, which was
    /// 7 of the 17 seconds of a 1.5M-row training.
    /// </summary>
    static string HashModulo(string text, int modulus)
    {
        var shift = (ulong)(System.Numerics.BigInteger.Pow(2, 64) % modulus);
        return $"((md5_number_lower({text}) % {modulus}) * {shift} + md5_number_upper({text}) % {modulus}) % {modulus}";
    }

    static string Literal(double value) => double.IsFinite(value) ? value.ToString("R", CultureInfo.InvariantCulture) : "NULL";

    static Task<T> Task_<T>(Func<T> work, CancellationToken ct) => System.Threading.Tasks.Task.Run(work, ct);

    /// <summary>
    /// What a version is trained on, hashed: the labelled rows with their folds (an order-independent hash of every
    /// row, and the count), the features as planned, and every option that changes the model.
    /// </summary>
    async Task<string> TrainingFingerprintAsync(DuckDB.NET.Data.DuckDBConnection connection, string relation, IReadOnlyList<FeatureColumn> features, CancellationToken ct)
    {
        var rows = await DuckDb.ScalarAsync<string>(connection, $"SELECT CAST(count(*) AS VARCHAR) || ':' || CAST(coalesce(sum(CAST(hash(t) AS HUGEINT)), 0) AS VARCHAR) FROM {relation} t", ct);
        var settings = string.Join("\n", [
            $"rows {rows}", $"task {Task}", $"label {Label}", $"algorithm {Algorithm}",
            $"options {string.Join(",", Options.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key}={o.Value.ToString("R", CultureInfo.InvariantCulture)}"))}",
            $"validation {Validation} {HoldoutFraction.ToString("R", CultureInfo.InvariantCulture)} {SplitColumn} {Folds} {Seed}",
            $"features {string.Join(",", features.Select(f => $"{f.Name}:{f.Type}:{f.Role}:{f.Encoding}"))}"]);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(settings)));
    }

    /// <summary>The output and details of a train step that registers nothing: its inputs are those <paramref name="last"/> was trained on.</summary>
    async ValueTask<StepResult> UnchangedAsync(StepContext context, ModelVersion last, string relation, CancellationToken ct)
    {
        var reason = $"training inputs unchanged since {Model} v{last.Version} (the same rows, features, label and options): no new version registered";
        await context.LogAsync(reason, ct);
        var aliases = await context.Store.GetAliasesAsync(Model, ct);
        var promoted = aliases.TryGetValue(PromoteAlias, out var atAlias) && atAlias == last.Version;
        await DuckDb.ExecuteAsync(context.Connection, $"""
            CREATE TABLE {context.OutputTable} (model VARCHAR, version INTEGER, metric VARCHAR, value DOUBLE, champion_value DOUBLE, promoted BOOLEAN);
            INSERT INTO {context.OutputTable} VALUES {string.Join(", ", last.Metrics.Select(m => $"({SqlText.Quote(Model)}, {last.Version}, {SqlText.Quote(m.Key)}, {Literal(m.Value)}, NULL, {(promoted ? "TRUE" : "FALSE")})"))};
            DROP TABLE {relation};
            """, ct);
        return new StepResult(last.TrainRows + last.HoldoutRows, new Dictionary<string, object?>
        {
            ["model"] = Model, ["version"] = last.Version, ["registered"] = false, ["promoted"] = false, ["reason"] = reason,
            ["metric"] = PromoteMetric, ["value"] = last.Metrics.GetValueOrDefault(PromoteMetric), ["train_rows"] = last.TrainRows, ["holdout_rows"] = last.HoldoutRows,
        });
    }

    static readonly JsonSerializerOptions MetadataJson = new(JsonSerializerDefaults.Web) { WriteIndented = true };
}
