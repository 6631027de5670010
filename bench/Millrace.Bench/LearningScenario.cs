using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using Millrace.Definitions;
using Millrace.Engine;
using Millrace.Learning;
using Millrace.Storage;

namespace Millrace.Bench;

/// <summary>
/// Training and batch scoring through Millrace's train and predict steps, beside the same ML.NET pipeline written by
/// hand on an in-memory IDataView (the raw baseline), on the same rows, in the same process. Reports times and ratios.
/// </summary>
public static class LearningScenario
{
    /// <summary>A row for the hand-written baseline (the POCO a developer would write).</summary>
    public sealed class Row
    {
        public float A { get; set; }
        public float B { get; set; }
        public float C { get; set; }
        public float D { get; set; }
        public float E { get; set; }
        public float F { get; set; }
        public string Region { get; set; } = "";
        public string Plan { get; set; } = "";
        public bool Label { get; set; }
    }

    public static async Task RunAsync(int rows, int iterations, string output, TextWriter log)
    {
        var root = Path.Combine(Path.GetTempPath(), "millrace-bench", "learning-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(root, "lake", "raw"));
        Directory.CreateDirectory(Path.Combine(root, "workflows"));
        var data = Path.Combine(root, "lake", "raw", "training.parquet");
        log.WriteLine($"learning benchmark: {rows:N0} rows, LightGBM {iterations} iterations, project in {root}");
        Generate(data, rows);
        await File.WriteAllTextAsync(Path.Combine(root, "millrace.yaml"), "id: bench\n");
        await File.WriteAllTextAsync(Path.Combine(root, "workflows", "train.yaml"), $$"""
            steps:
              - { id: data, type: read, path: raw/training.parquet }
              - id: model
                type: train
                input: data
                model: bench
                task: binary
                label: label
                features: [a, b, c, d, e, f, region, plan]
                algorithm: lightgbm
                options: { iterations: {{iterations}}, learning_rate: 0.1, leaves: 31 }
                validation: { method: random, fraction: 0.2 }
            """);
        await File.WriteAllTextAsync(Path.Combine(root, "workflows", "score.yaml"), """
            steps:
              - { id: data, type: read, path: raw/training.parquet }
              - { id: scored, type: predict, input: data, model: bench@champion }
            """);
        var project = Project.Open(root);
        await using var store = await MetadataStores.OpenAsync(project, CancellationToken.None);
        var runner = new Runner(project, store);

        // Millrace: the train step (split, featurize, fit, evaluate, importance, save, gate, register).
        var trainRun = await runner.RunAsync(new RunRequest("train", []));
        if (trainRun.Status != RunStatus.Succeeded) throw new InvalidOperationException(trainRun.Error);
        var trainStep = (await store.GetStepRunsAsync(trainRun.Id, CancellationToken.None)).Single(s => s.StepId == "model");
        var millraceTrain = trainStep.Duration!.Value.TotalSeconds;
        using (var details = System.Text.Json.JsonDocument.Parse(trainStep.DetailsJson!)) log.WriteLine($"train step phases: {details.RootElement.GetProperty("timings")}");
        var memoryAfterTrain = GC.GetTotalMemory(forceFullCollection: false);

        // Millrace: the predict step (DuckDB -> ML.NET -> DuckDB appender -> join with the input).
        var scoreRun = await runner.RunAsync(new RunRequest("score", []));
        if (scoreRun.Status != RunStatus.Succeeded) throw new InvalidOperationException(scoreRun.Error);
        var scoreStep = (await store.GetStepRunsAsync(scoreRun.Id, CancellationToken.None)).Single(s => s.StepId == "scored");
        var millraceScore = scoreStep.Duration!.Value.TotalSeconds;
        log.WriteLine($"predict step phases: {scoreStep.DetailsJson}");

        // Raw ML.NET: the same rows loaded into POCOs (not timed), the same pipeline, fit on 80%, evaluate on 20%, save.
        var all = Load(data);
        var train = all.Where((_, i) => i % 5 != 0).ToList();
        var holdout = all.Where((_, i) => i % 5 == 0).ToList();
        var ml = new MLContext(42);
        var features = new List<FeatureColumn>
        {
            new("A", "FLOAT", FeaturePlan.Numeric, "none"), new("B", "FLOAT", FeaturePlan.Numeric, "none"), new("C", "FLOAT", FeaturePlan.Numeric, "none"),
            new("D", "FLOAT", FeaturePlan.Numeric, "none"), new("E", "FLOAT", FeaturePlan.Numeric, "none"), new("F", "FLOAT", FeaturePlan.Numeric, "none"),
            new("Region", "VARCHAR", FeaturePlan.Categorical, "onehot"), new("Plan", "VARCHAR", FeaturePlan.Categorical, "onehot"),
        };
        var options = new Dictionary<string, double> { ["iterations"] = iterations, ["learning_rate"] = 0.1, ["leaves"] = 31 };
        var clock = Stopwatch.StartNew();
        var trainView = ml.Data.LoadFromEnumerable(train);
        var model = ModelBuilder.Pipeline(ml, features, ModelTask.Binary, "lightgbm", options, 42).Fit(trainView);
        var metrics = ml.BinaryClassification.Evaluate(model.Transform(ml.Data.LoadFromEnumerable(holdout)));
        using (var stream = File.Create(Path.Combine(root, "raw-model.zip"))) ml.Model.Save(model, trainView.Schema, stream);
        var rawTrain = clock.Elapsed.TotalSeconds;

        // Raw ML.NET scoring: Transform over the in-memory rows and read every prediction through a cursor.
        var allView = ml.Data.LoadFromEnumerable(all);
        clock.Restart();
        var scored = model.Transform(allView);
        using (var cursor = scored.GetRowCursor(scored.Schema.Where(c => c.Name is "Score" or "Probability" or "PredictedLabel")))
        {
            var score = cursor.GetGetter<float>(scored.Schema["Score"]);
            var probability = cursor.GetGetter<float>(scored.Schema["Probability"]);
            var label = cursor.GetGetter<bool>(scored.Schema["PredictedLabel"]);
            float s = 0, p = 0;
            var l = false;
            double sum = 0;
            while (cursor.MoveNext()) { score(ref s); probability(ref p); label(ref l); sum += p; }
            _ = sum;
        }
        var rawScore = clock.Elapsed.TotalSeconds;

        var version = (await store.GetModelVersionAsync("bench", 1, null, CancellationToken.None))!;
        log.WriteLine();
        log.WriteLine("| what | Millrace | raw ML.NET | ratio (Millrace / raw) | target |");
        log.WriteLine("| --- | ---: | ---: | ---: | --- |");
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| train LightGBM, {rows:N0} rows (fit 80%, evaluate 20%, save) | {millraceTrain:0.00} s | {rawTrain:0.00} s | {millraceTrain / rawTrain:0.00} | <= 1.15 |"));
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| batch scoring, {rows:N0} rows | {rows / millraceScore:N0} rows/s | {rows / rawScore:N0} rows/s | {rawScore / millraceScore:0.00} (throughput) | >= 0.90 |"));
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\nAUC on the holdout: Millrace {version.Metrics["auc"]:0.0000}, raw {metrics.AreaUnderRocCurve:0.0000}; managed heap after training {memoryAfterTrain / 1048576.0:0} MiB"));
        await File.WriteAllLinesAsync(Path.Combine(output, "learning.csv"),
        [
            "what,rows,millrace_seconds,raw_seconds",
            string.Create(CultureInfo.InvariantCulture, $"train,{rows},{millraceTrain:0.000},{rawTrain:0.000}"),
            string.Create(CultureInfo.InvariantCulture, $"score,{rows},{millraceScore:0.000},{rawScore:0.000}"),
        ]);
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
    }

    static void Generate(string path, int rows)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT setseed(0.42);
            COPY (
              SELECT a, b, c, d, e, f, region, plan,
                     (0.8 * a - 0.5 * b + 0.3 * c + CASE plan WHEN 'basic' THEN 0.7 ELSE -0.2 END + CASE region WHEN 'north' THEN 0.3 ELSE 0 END + 0.8 * (random() - 0.5)) > 0.4 AS label
              FROM (
                SELECT (random() * 2 - 1)::FLOAT AS a, (random() * 2 - 1)::FLOAT AS b, (random() * 2 - 1)::FLOAT AS c,
                       (random() * 10)::FLOAT AS d, (random() * 100)::FLOAT AS e, (random())::FLOAT AS f,
                       ['north', 'south', 'east', 'west'][1 + (i % 4)::INTEGER] AS region,
                       ['basic', 'standard', 'premium'][1 + (i % 3)::INTEGER] AS plan
                FROM range({rows}) t(i)
              )
            ) TO '{path.Replace("'", "''", StringComparison.Ordinal)}' (FORMAT parquet);
            """;
        command.ExecuteNonQuery();
    }

    static List<Row> Load(string path)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT a, b, c, d, e, f, region, plan, label FROM read_parquet('{path.Replace("'", "''", StringComparison.Ordinal)}')";
        using var reader = command.ExecuteReader();
        var rows = new List<Row>();
        while (reader.Read())
            rows.Add(new Row
            {
                A = reader.GetFloat(0), B = reader.GetFloat(1), C = reader.GetFloat(2), D = reader.GetFloat(3), E = reader.GetFloat(4), F = reader.GetFloat(5),
                Region = reader.GetString(6), Plan = reader.GetString(7), Label = reader.GetBoolean(8),
            });
        return rows;
    }
}
