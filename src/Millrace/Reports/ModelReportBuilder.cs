using System.Globalization;
using Microsoft.ML;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Learning;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Reports;

/// <summary>
/// Builds the built-in model report: the model's versions over time (metrics chart and table, from the registry),
/// the featured version (the champion by default): its confusion matrix on its holdout, its ROC curve on the first
/// input that has the label column, its feature importance, and the drift of the latest batch measured against the
/// model. Versions and alias changes that the running workflow registers at its commit are included, so a model
/// report placed after a train step shows the version just trained.
/// </summary>
internal sealed class ModelReportBuilder(StepContext context, ReportOutput output, KpiSnapshot? previous)
{
    /// <summary>Most points of a ROC curve drawn (the AUC is computed from all of them).</summary>
    const int MaxRocPoints = 300;

    /// <summary>How many recent succeeded runs to look through for the latest drift measurement.</summary>
    const int DriftRunsSearched = 60;

    readonly List<KpiValue> _kpis = [];
    readonly Dictionary<string, DateOnly?> _runDates = new(StringComparer.Ordinal);
    int _charts;

    public IReadOnlyList<KpiValue> Kpis => _kpis;

    /// <summary>The version the report featured (null until built).</summary>
    public ModelVersion? Featured { get; private set; }

    /// <summary>Every registered version of the model, with those this workflow run registers at commit.</summary>
    public static async Task<IReadOnlyList<ModelVersion>> VersionsAsync(StepContext context, string model, CancellationToken ct)
    {
        var versions = (await context.Store.ListModelVersionsAsync(model, ct)).ToDictionary(v => v.Version);
        foreach (var pending in context.Commit.Models.Where(m => m.Name == model)) versions[pending.Version] = pending;
        return versions.Values.OrderBy(v => v.Version).ToList();
    }

    /// <summary>The model's aliases as they will be after this workflow run commits.</summary>
    public static async Task<IReadOnlyDictionary<string, int>> AliasesAsync(StepContext context, string model, CancellationToken ct)
    {
        var aliases = (await context.Store.GetAliasesAsync(model, ct)).ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
        foreach (var change in context.Commit.AliasChanges.Where(c => c.Model == model))
        {
            if (change.Version is { } version) aliases[change.Alias] = version;
            else aliases.Remove(change.Alias);
        }
        return aliases;
    }

    public async Task<ReportDocument> BuildAsync(string title, ModelReference reference, IReadOnlyList<ModelVersion> versions, IReadOnlyDictionary<string, int> aliases,
        ModelVersion featured, string? label, double driftThreshold, CancellationToken ct)
    {
        Featured = featured;
        var role = reference.Version is null ? reference.Alias! : $"v{featured.Version}";
        var sections = new List<ReportSection>
        {
            await SummaryAsync(reference, versions, aliases, featured, ct),
            await VersionsSectionAsync(versions, aliases, featured.Task, ct),
            await FeaturedSectionAsync(featured, role, label, ct),
        };
        if (await OtherRowsSectionAsync(featured, label, ct) is { } other) sections.Add(other);
        sections.Add(await DriftSectionAsync(featured.Name, driftThreshold, ct));
        return new ReportDocument { Title = title, Name = output.Name, RunDate = output.RunDate, PreviousDate = previous?.RunDate, Sections = sections };
    }

    /// <summary>The metrics a task's report leads with (its KPIs).</summary>
    static IReadOnlyList<string> KeyMetrics(ModelTask task) => task switch
    {
        ModelTask.Binary => ["auc", "pr_auc", "f1", "accuracy"],
        ModelTask.Multiclass => ["macro_accuracy", "micro_accuracy", "log_loss"],
        _ => ["rmse", "mae", "r2"],
    };

    /// <summary>The metrics drawn over versions: every metric of the task but log-loss, whose scale is not [0, 1].</summary>
    static IReadOnlyList<string> ChartedMetrics(ModelTask task) => ModelBuilder.MetricNames(task).Where(m => m != "log_loss").ToList();

    async Task<ReportSection> SummaryAsync(ModelReference reference, IReadOnlyList<ModelVersion> versions, IReadOnlyDictionary<string, int> aliases, ModelVersion featured, CancellationToken ct)
    {
        var blocks = new List<ReportBlock>();
        var versionLabel = reference.Version is null ? $"{reference.Alias} version" : "version";
        blocks.Add(Kpi(new KpiValue(versionLabel, featured.Version, KpiHistory.PreviousValue(previous, versionLabel), KpiFormat.Number, 0)));
        foreach (var metric in KeyMetrics(featured.Task))
            if (featured.Metrics.TryGetValue(metric, out var value))
                blocks.Add(Kpi(new KpiValue(metric, value, KpiHistory.PreviousValue(previous, metric), KpiFormat.Number, 4, HigherIsBetter: ModelBuilder.HigherIsBetter(metric))));

        var trainedOn = await RunDateAsync(featured.RunId, ct);
        var text = new List<string>
        {
            $"**{featured.Name} v{featured.Version}** ({reference}): {featured.Task.ToString().ToLowerInvariant()} {featured.Algorithm} model predicting `{featured.Label}`, " +
            $"trained{(trainedOn is { } d ? $" in the run of {d:yyyy-MM-dd}" : "")} on {featured.TrainRows:N0} rows and evaluated on {featured.HoldoutRows:N0} holdout rows.",
        };
        if (featured.Datasets.Count > 0) text.Add($"Training data: {string.Join(", ", featured.Datasets.Select(s => $"`{s}`"))}.");
        var aliasText = aliases.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key} → v{a.Value}").ToList();
        text.Add($"{versions.Count} version{(versions.Count == 1 ? "" : "s")} registered{(aliasText.Count == 0 ? "" : "; aliases: " + string.Join(", ", aliasText))}.");
        foreach (var change in context.Commit.AliasChanges.Where(c => c.Model == featured.Name && c.Version is not null))
            text.Add($"This run registered v{change.Version} as {change.Alias}: {change.Reason}.");
        blocks.Add(new TextBlock(string.Join("\n\n", text)));
        return new ReportSection("Summary", blocks);
    }

    KpiBlock Kpi(KpiValue kpi)
    {
        _kpis.Add(kpi);
        return new KpiBlock(kpi);
    }

    async Task<ReportSection> VersionsSectionAsync(IReadOnlyList<ModelVersion> versions, IReadOnlyDictionary<string, int> aliases, ModelTask task, CancellationToken ct)
    {
        var blocks = new List<ReportBlock>();
        var metrics = ChartedMetrics(task);
        var sameTask = versions.Where(v => v.Task == task).ToList();
        var data = new ChartData(ChartAxisKind.Category, Enumerable.Range(0, sameTask.Count).Select(i => (double)i).ToList(), sameTask.Select(v => $"v{v.Version}").ToList(),
            metrics.Select(m => new ChartSeries(m, sameTask.Select(v => v.Metrics.TryGetValue(m, out var value) ? value : double.NaN).ToList())).ToList());
        blocks.Add(new ChartBlock("Holdout metrics by version", ChartBuilder.Render(
            new ChartOptions(ChartType.Line) { XLabel = "version", YLabel = "metric on its holdout", Description = "Holdout metrics by version" }, data, $"chart{++_charts}")));

        var allMetrics = ModelBuilder.MetricNames(task);
        var columns = new List<string> { "version", "run_date", "algorithm", "train_rows", "holdout_rows" };
        columns.AddRange(allMetrics);
        columns.Add("aliases");
        var rows = new List<IReadOnlyList<string>>();
        foreach (var version in versions.OrderByDescending(v => v.Version))
        {
            var row = new List<string>
            {
                $"v{version.Version}", (await RunDateAsync(version.RunId, ct))?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "",
                version.Algorithm, version.TrainRows.ToString(CultureInfo.InvariantCulture), version.HoldoutRows.ToString(CultureInfo.InvariantCulture),
            };
            row.AddRange(allMetrics.Select(m => version.Metrics.TryGetValue(m, out var value) ? value.ToString("0.0000", CultureInfo.InvariantCulture) : ""));
            row.Add(string.Join(" ", aliases.Where(a => a.Value == version.Version).Select(a => a.Key).Order(StringComparer.Ordinal)));
            rows.Add(row);
        }
        await output.WriteCsvAsync("versions.csv", columns, rows, ct);
        var numeric = columns.Select(c => c is "train_rows" or "holdout_rows" || allMetrics.Contains(c)).ToList();
        blocks.Add(new TableBlock("Versions", columns, numeric, rows, rows.Count, "versions.csv"));
        return new ReportSection("Versions over time", blocks);
    }

    async Task<ReportSection> FeaturedSectionAsync(ModelVersion version, string role, string? label, CancellationToken ct)
    {
        var blocks = new List<ReportBlock>();
        var m = version.Metrics;
        if (version.Task == ModelTask.Binary && m.TryGetValue("tp", out var tp) && m.TryGetValue("fp", out var fp) && m.TryGetValue("tn", out var tn) && m.TryGetValue("fn", out var fn))
            blocks.Add(new ConfusionMatrixBlock("Confusion matrix on the holdout", tp, fp, tn, fn));
        else if (version.Task == ModelTask.Binary)
            blocks.Add(new TextBlock($"v{version.Version} has no confusion counts in its metrics (it was trained by an older Millrace, or with k-fold validation)."));

        // Every figure of the version is from its own holdout when it was stored with it; an input with the label is
        // other rows, so its curve goes in a section of its own (OtherRowsSectionAsync).
        var own = version.Task == ModelTask.Binary ? await OwnHoldoutAsync(version, ct) : null;
        if (own is not null)
            blocks.AddRange(await DrawRocAsync(version, $"SELECT probability AS p, label AS y FROM read_parquet({SqlText.Quote(own)})",
                $"v{version.Version}'s scores of its own holdout (the rows its metrics and confusion matrix are from, {version.HoldoutRows:N0} rows)", version.Label, ct));
        else if (context.Step.Inputs.Count > 0)
        {
            if (version.Task == ModelTask.Binary) blocks.AddRange(await RocAsync(version, label ?? version.Label, ct));
            else blocks.Add(new TextBlock("A ROC curve is drawn for binary models only."));
        }

        if (version.Importance.Count > 0)
        {
            var top = version.Importance.Take(20).ToList();
            var data = new ChartData(ChartAxisKind.Category, Enumerable.Range(0, top.Count).Select(i => (double)i).ToList(), top.Select(p => p.Key).ToList(),
                [new ChartSeries("share of importance", top.Select(p => p.Value).ToList())]);
            var title = version.Importance.Count > top.Count ? $"Feature importance (top {top.Count} of {version.Importance.Count})" : "Feature importance";
            blocks.Add(new ChartBlock(title, ChartBuilder.Render(new ChartOptions(ChartType.Bar)
            {
                Horizontal = true, XLabel = "share of total importance", Description = title, Height = Math.Max(240, 70 + 24 * top.Count),
            }, data, $"chart{++_charts}")));
            await output.WriteCsvAsync("importance.csv", ["feature", "importance"],
                version.Importance.Select(p => (IReadOnlyList<string>)[p.Key, p.Value.ToString("0.######", CultureInfo.InvariantCulture)]), ct);
        }
        var heading = char.ToUpperInvariant(role[0]) + role[1..];
        return new ReportSection(role.StartsWith('v') ? $"Version {version.Version}" : $"{heading} v{version.Version}", blocks);
    }

    /// <summary>
    /// The ROC curve of <paramref name="version"/> on the first input that has <paramref name="labelColumn"/>: its
    /// <c>probability</c> column when it has one (the output of a predict step), else the version's own scores of the
    /// input rows. Computed in DuckDB SQL.
    /// </summary>
    async Task<IReadOnlyList<ReportBlock>> RocAsync(ModelVersion version, string labelColumn, CancellationToken ct)
    {
        var labelled = context.Step.Inputs
            .Select(i => (Name: i, Table: context.InputTable(i), Schema: DuckDb.Describe(context.Connection, context.InputTable(i))))
            .FirstOrDefault(i => i.Schema.Any(c => c.Name == labelColumn));
        if (labelled.Name is null)
        {
            var message = $"No ROC curve: no input of the step ({string.Join(", ", context.Step.Inputs)}) has the label column '{labelColumn}'.";
            await context.LogAsync(message + " Set 'label', or list the labelled rows among the inputs.", ct, "warn");
            return [new TextBlock(message)];
        }
        var (inputName, input, schema) = labelled;
        return await ScoredInputAsync(version, labelColumn, inputName, input, schema, ct);
    }

    async Task<IReadOnlyList<ReportBlock>> ScoredInputAsync(ModelVersion version, string labelColumn, string inputName, string input, IReadOnlyList<ColumnSchema> schema, CancellationToken ct)
    {
        var numbered = SqlText.Identifier($"__roc_input_{context.Step.Id}");
        var scoresTable = $"__roc_scores_{context.Step.Id}";
        string scores, source;
        if (schema.Any(c => c.Name == "probability"))
        {
            scores = $"SELECT CAST(probability AS DOUBLE) AS p, CAST({SqlText.Identifier(labelColumn)} AS BOOLEAN) AS y FROM {input}";
            source = $"the `probability` column of `{inputName}`";
        }
        else
        {
            FeaturePlan.CheckInput(version.Features, schema, $"{version.Name}@v{version.Version}");
            var ml = new MLContext(seed: 0);
            var model = await LoadAsync(ml, version, ct);
            ModelScorer.Number(context.Connection, input, $"__roc_input_{context.Step.Id}");
            await Task.Run(() => ModelScorer.Score(ml, model, version, context.Connection, numbered, scoresTable), ct);
            scores = $"SELECT s.probability AS p, CAST(i.{SqlText.Identifier(labelColumn)} AS BOOLEAN) AS y FROM {numbered} i JOIN {SqlText.Identifier(scoresTable)} s USING ({ModelScorer.RowColumn})";
            source = $"v{version.Version}'s scores of `{inputName}`";
        }
        try
        {
            return await DrawRocAsync(version, scores, source, labelColumn, ct);
        }
        finally
        {
            await DuckDb.ExecuteAsync(context.Connection, $"DROP TABLE IF EXISTS {numbered}; DROP TABLE IF EXISTS {SqlText.Identifier(scoresTable)};", CancellationToken.None);
        }
    }

    /// <summary>The ROC curve of <paramref name="scores"/> (a query of <c>p</c>, the score, and <c>y</c>, the label), computed in DuckDB SQL.</summary>
    async Task<IReadOnlyList<ReportBlock>> DrawRocAsync(ModelVersion version, string scores, string source, string labelColumn, CancellationToken ct)
    {
        var rows = await DuckDb.RowsAsync(context.Connection, $"""
                WITH s AS ({scores}),
                g AS (SELECT p, count(*) FILTER (WHERE y) AS pos, count(*) FILTER (WHERE NOT y) AS neg FROM s WHERE p IS NOT NULL AND y IS NOT NULL GROUP BY p),
                c AS (SELECT p, sum(pos) OVER (ORDER BY p DESC ROWS UNBOUNDED PRECEDING) AS tp, sum(neg) OVER (ORDER BY p DESC ROWS UNBOUNDED PRECEDING) AS fp FROM g),
                t AS (SELECT sum(pos) AS positives, sum(neg) AS negatives FROM g)
                SELECT CAST(fp AS DOUBLE) / negatives AS fpr, CAST(tp AS DOUBLE) / positives AS tpr, positives, negatives FROM c, t ORDER BY p DESC
                """, ct);
        var positives = rows.Count == 0 ? 0 : ReportQuery.ToDouble(rows[0][2]) ?? 0;
        var negatives = rows.Count == 0 ? 0 : ReportQuery.ToDouble(rows[0][3]) ?? 0;
        if (positives == 0 || negatives == 0)
            return [new TextBlock($"No ROC curve: the labelled input has {positives:N0} positive and {negatives:N0} negative rows; it needs both.")];
        var points = new List<(double Fpr, double Tpr)> { (0, 0) };
        points.AddRange(rows.Select(r => (ReportQuery.ToDouble(r[0])!.Value, ReportQuery.ToDouble(r[1])!.Value)));
        var auc = 0.0;
        for (var i = 1; i < points.Count; i++) auc += (points[i].Fpr - points[i - 1].Fpr) * (points[i].Tpr + points[i - 1].Tpr) / 2;
        var step = Math.Max(1, (points.Count + MaxRocPoints - 1) / MaxRocPoints);
        var drawn = points.Where((_, i) => i % step == 0 || i == points.Count - 1).ToList();
        var name = $"v{version.Version} (AUC {auc.ToString("0.0000", CultureInfo.InvariantCulture)})";
        var data = new ChartData(ChartAxisKind.Numeric, drawn.Select(p => p.Fpr).ToList(), [], [new ChartSeries(name, drawn.Select(p => p.Tpr).ToList())]);
        var svg = ChartBuilder.Render(new ChartOptions(ChartType.Line)
        {
            XLabel = "false positive rate", YLabel = "true positive rate", Description = "ROC curve", Width = 560, Height = 460,
            // A little past [0, 1] so a curve along an edge (a perfect model) is not hidden by the frame.
            XLimits = (-0.02, 1.02), YLimits = (-0.02, 1.02), ReferenceLines = [new ReferenceLine(0, 0, 1, 1, "chance")],
        }, data, $"chart{++_charts}");
        return
        [
            new ChartBlock("ROC curve", svg),
            new TextBlock($"From {source}: {positives:N0} positive and {negatives:N0} negative rows (label `{labelColumn}`); AUC {auc.ToString("0.0000", CultureInfo.InvariantCulture)}."),
        ];
    }

    /// <summary>The local path of the holdout scores stored with <paramref name="version"/>, or null (a version trained before they were kept, or k-fold).</summary>
    async Task<string?> OwnHoldoutAsync(ModelVersion version, CancellationToken ct)
    {
        var path = Steps.TrainStep.HoldoutPath(version);
        if (context.Commit.StagedFiles.FirstOrDefault(f => f.FinalPath == path) is { } staged) return context.Lake.Resolve(staged.StagingPath);
        try
        {
            var local = (await context.Lake.FetchAsync([path], ct))[0];
            return File.Exists(local) ? local : null;
        }
        catch (Lake.LakeStorageException)
        {
            return null;
        }
    }

    /// <summary>
    /// The featured version's ROC curve on the step's first labelled input, apart from its own holdout: those are other
    /// rows (another day's holdout, a scored batch), so they get a section of their own. Null when there is none.
    /// </summary>
    async Task<ReportSection?> OtherRowsSectionAsync(ModelVersion version, string? label, CancellationToken ct)
    {
        if (version.Task != ModelTask.Binary || context.Step.Inputs.Count == 0 || await OwnHoldoutAsync(version, ct) is null) return null;
        var labelColumn = label ?? version.Label;
        var labelled = context.Step.Inputs
            .Select(i => (Name: i, Table: context.InputTable(i), Schema: DuckDb.Describe(context.Connection, context.InputTable(i))))
            .FirstOrDefault(i => i.Schema.Any(c => c.Name == labelColumn));
        if (labelled.Name is null) return null;
        return new ReportSection($"v{version.Version} on {labelled.Name}", await ScoredInputAsync(version, labelColumn, labelled.Name, labelled.Table, labelled.Schema, ct));
    }

    /// <summary>Loads a version's ML.NET model: from the lake, or from this run's staging folder when the run registers it.</summary>
    async Task<ITransformer> LoadAsync(MLContext ml, ModelVersion version, CancellationToken ct)
    {
        var path = context.Commit.StagedFiles.FirstOrDefault(f => f.FinalPath == version.Path) is { } staged
            ? context.Lake.Resolve(staged.StagingPath)
            : await ModelRegistry.FetchAsync(context.Lake, version, ct);
        return ModelRegistry.LoadFile(ml, version, path);
    }

    async Task<ReportSection> DriftSectionAsync(string model, double threshold, CancellationToken ct)
    {
        var (results, runDate) = await LatestDriftAsync(model, ct);
        if (results.Count == 0)
            return new ReportSection("Drift of the latest batch", [new TextBlock(
                $"No drift has been measured against `{model}` yet. A `drift` step with `model: {model}@champion` in the scoring workflow (and the predict step's prediction drift) records it.")]);
        var ordered = results.OrderByDescending(r => r.Psi).ThenBy(r => r.Feature, StringComparer.Ordinal).Take(25).ToList();
        static string Display(string feature) => feature == "__prediction__" ? "prediction (scores)" : feature;
        var data = new ChartData(ChartAxisKind.Category, Enumerable.Range(0, ordered.Count).Select(i => (double)i).ToList(), ordered.Select(r => Display(r.Feature)).ToList(),
            [new ChartSeries("PSI", ordered.Select(r => r.Psi).ToList())]);
        var max = Math.Max(threshold, ordered.Max(r => r.Psi));
        var svg = ChartBuilder.Render(new ChartOptions(ChartType.Bar)
        {
            Horizontal = true, XLabel = "population stability index (PSI)", Description = "Drift by feature", Height = Math.Max(240, 90 + 24 * ordered.Count),
            XLimits = (0, max * 1.1), ReferenceLines = [new ReferenceLine(threshold, -0.5, threshold, ordered.Count - 0.5, $"threshold {ChartBuilder.Number(threshold)}")],
        }, data, $"chart{++_charts}");
        var drifted = results.Where(r => r.Psi > threshold).OrderByDescending(r => r.Psi).Select(r => $"`{Display(r.Feature)}` ({r.Psi.ToString("0.000", CultureInfo.InvariantCulture)})").ToList();
        var references = string.Join(", ", results.Select(r => r.Reference).Distinct().Order(StringComparer.Ordinal).Select(r => $"`{r}`"));
        var summary = $"Measured in the run of {runDate:yyyy-MM-dd} against {references}. " +
            (drifted.Count == 0 ? $"No feature is above the threshold {ChartBuilder.Number(threshold)}." : $"Above the threshold {ChartBuilder.Number(threshold)}: {string.Join(", ", drifted)}.");
        var rows = results.OrderByDescending(r => r.Psi).ThenBy(r => r.Feature, StringComparer.Ordinal)
            .Select(r => (IReadOnlyList<string>)[Display(r.Feature), r.Psi.ToString("0.0000", CultureInfo.InvariantCulture), r.Psi > threshold ? "yes" : "no", r.Reference, r.StepId]).ToList();
        string[] columns = ["feature", "psi", "drifted", "reference", "step"];
        await output.WriteCsvAsync("drift.csv", columns, rows, ct);
        return new ReportSection("Drift of the latest batch",
        [
            new TextBlock(summary),
            new ChartBlock("Drift by feature", svg),
            new TableBlock("PSI by feature", columns, [false, true, false, false, false], rows, rows.Count, "drift.csv"),
        ]);
    }

    /// <summary>
    /// The drift results against <paramref name="model"/> of this run, or else of the latest succeeded run that
    /// measured any (a training run's report shows the drift of the latest scored batch).
    /// </summary>
    async Task<(IReadOnlyList<DriftResult> Results, DateOnly? RunDate)> LatestDriftAsync(string model, CancellationToken ct)
    {
        bool Against(DriftResult r) => r.Reference.StartsWith(model + "@v", StringComparison.Ordinal);
        var current = (await context.Store.GetDriftResultsAsync(context.RunId, ct)).Where(Against).ToList();
        if (current.Count > 0) return (current, output.RunDate);
        var runs = await context.Store.FindRunsAsync(new RunFilter(ProjectId: context.Project.Id, Status: RunStatus.Succeeded), new Page(0, DriftRunsSearched), ct);
        foreach (var run in runs.Where(r => r.Id != context.RunId && r.RunDate <= output.RunDate).OrderByDescending(r => r.RunDate).ThenByDescending(r => r.CreatedAt))
        {
            var results = (await context.Store.GetDriftResultsAsync(run.Id, ct)).Where(Against).ToList();
            if (results.Count > 0) return (results, run.RunDate);
        }
        return ([], null);
    }

    async Task<DateOnly?> RunDateAsync(string runId, CancellationToken ct)
    {
        if (runId == context.RunId) return output.RunDate;
        if (!_runDates.TryGetValue(runId, out var date))
            _runDates[runId] = date = (await context.Store.GetRunAsync(runId, ct))?.RunDate;
        return date;
    }
}
