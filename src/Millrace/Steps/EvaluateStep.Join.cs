using System.Globalization;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Learning;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Steps;

/// <summary>The <c>evaluate</c> step's join of predictions and labels, in DuckDB.</summary>
public sealed partial class EvaluateStep
{
    /// <summary>One prediction of the window with its truth (null: no label).</summary>
    sealed record Row(double? Probability, double? Score, string? PredictedLabel, string Truth);

    /// <summary>The predictions of one (variant, score date, version): how many, and those with a label.</summary>
    sealed record Group(PredictionVariant Variant, DateOnly ScoreDate, int Version, long Scored, List<Row> Labelled);

    /// <summary>The checked columns of the inputs and the SQL that joins them.</summary>
    sealed record JoinPlan(string Predictions, string Labels, string Truth, bool EventLabel, bool HasEventTime, int HorizonDays, string ScoreDateColumn)
    {
        public string Table(string id, string part) => SqlText.Identifier($"__evaluate_{id}_{part}");

        public string Sql(DateOnly oldest, DateOnly newest, string id)
        {
            string D(DateOnly d) => $"DATE '{d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}'";
            var (p, l, j) = (Table(id, "p"), Table(id, "l"), Table(id, "j"));
            var window = $"{SqlText.Identifier(ScoreDateColumn)} >= {D(oldest)} AND {SqlText.Identifier(ScoreDateColumn)} < {D(newest.AddDays(1))}";
            // Events (or dated labels) that can count for a score date of the window: after the oldest, within the newest's horizon.
            var eventWindow = HasEventTime ? $"WHERE d > {D(oldest)} AND d <= {D(newest.AddDays(HorizonDays))}" : "";
            var within = HasEventTime ? $" AND l.d > p.score_date AND l.d <= p.score_date + INTERVAL {HorizonDays} DAY" : "";
            var joined = EventLabel
                // A binary label from an event: true when one happened within the horizon. No event in the window at
                // all, or none whose key matches a prediction, is "labels not arrived": no truth, not all negatives.
                ? $"""
                   SELECT p.*, CASE WHEN (SELECT count(*) FROM {l} WHERE k IN (SELECT k FROM {p})) = 0 THEN NULL
                                    ELSE CAST(EXISTS (SELECT 1 FROM {l} l WHERE l.k = p.k{within}) AS VARCHAR) END AS truth, 1 AS truths
                   FROM {p} p
                   """
                : $"""
                   SELECT p.*, {(HasEventTime ? "arg_min(l.truth, l.d)" : "CASE WHEN count(DISTINCT l.truth) = 1 THEN min(l.truth) END")} AS truth, count(DISTINCT l.truth) AS truths
                   FROM {p} p LEFT JOIN {l} l ON l.k = p.k{within}
                   GROUP BY ALL
                   """;
            return $"""
                CREATE OR REPLACE TEMP TABLE {p} AS SELECT row_number() OVER () AS rid, * FROM ({Predictions.Replace("{window}", window, StringComparison.Ordinal)});
                CREATE OR REPLACE TEMP TABLE {l} AS SELECT * FROM ({Labels}) {eventWindow};
                CREATE OR REPLACE TEMP TABLE {j} AS {joined};
                UPDATE {j} SET truth = NULL WHERE variant = 'shadow' AND NOT EXISTS (
                    SELECT 1 FROM {j} c WHERE c.variant = 'champion' AND c.score_date = {j}.score_date AND c.k = {j}.k AND c.truth IS NOT NULL);
                """;
        }

        public string Cleanup(string id) => $"DROP TABLE IF EXISTS {Table(id, "p")}; DROP TABLE IF EXISTS {Table(id, "l")}; DROP TABLE IF EXISTS {Table(id, "j")};";
    }

    /// <summary>Checks the inputs' columns against the options and the model's task, and builds the join.</summary>
    JoinPlan Plan(StepContext context, ModelTask task)
    {
        var selects = new List<string>();
        foreach (var (input, variant) in Predictions.Select(i => (i, "champion")).Concat(Shadow.Select(i => (i, "shadow"))))
        {
            var schema = DuckDb.Describe(context.Connection, context.InputTable(input));
            string? Type(string column) => schema.FirstOrDefault(c => c.Name == column)?.Type;
            foreach (var column in new[] { ScoreDate, Key, "model_version" })
                if (Type(column) is null) throw new StepFailedException($"predictions input '{input}' has no column '{column}' (it has: {string.Join(", ", schema.Select(c => c.Name))}){(column == "model_version" ? "; evaluate reads what a predict step wrote" : "")}");
            if (!IsTemporal(Type(ScoreDate)!)) throw new StepFailedException($"score_date column '{ScoreDate}' of '{input}' is {Type(ScoreDate)}; it must be a DATE or TIMESTAMP");
            string Or(string column, string type) => Type(column) is null ? $"NULL::{type}" : $"CAST({SqlText.Identifier(column)} AS {type})";
            if (task == ModelTask.Binary && Type("probability") is null) throw new StepFailedException($"predictions input '{input}' has no column 'probability'; a binary model's predictions need it");
            selects.Add($"SELECT '{variant}' AS variant, CAST({SqlText.Identifier(ScoreDate)} AS DATE) AS score_date, CAST({SqlText.Identifier(Key)} AS VARCHAR) AS k, CAST(model_version AS INTEGER) AS model_version, " +
                $"{Or("probability", "DOUBLE")} AS probability, {Or("score", "DOUBLE")} AS score, {Or("predicted_label", "VARCHAR")} AS predicted_label FROM {context.InputTable(input)} WHERE {{window}}");
        }
        var labels = DuckDb.Describe(context.Connection, context.InputTable(LabelInput));
        string? LabelType(string column) => labels.FirstOrDefault(c => c.Name == column)?.Type;
        foreach (var column in new[] { Key, EventTime, Value }.OfType<string>())
            if (LabelType(column) is null) throw new StepFailedException($"label input '{LabelInput}' has no column '{column}' (it has: {string.Join(", ", labels.Select(c => c.Name))})");
        if (EventTime is not null && !IsTemporal(LabelType(EventTime)!)) throw new StepFailedException($"event_time column '{EventTime}' of '{LabelInput}' is {LabelType(EventTime)}; it must be a DATE or TIMESTAMP");
        if (Value is null && task != ModelTask.Binary) throw new StepFailedException($"model {Model} is a {task.ToString().ToLowerInvariant()} model: its labels need 'value:' (an event gives only a binary label)");
        var truth = Value is null ? "TRUE" : TruthExpression(task, Value, LabelType(Value)!);
        var date = EventTime is null ? "" : $", CAST({SqlText.Identifier(EventTime)} AS DATE) AS d";
        var labelSql = $"SELECT CAST({SqlText.Identifier(Key)} AS VARCHAR) AS k{date}, {truth} AS truth FROM {context.InputTable(LabelInput)} WHERE {SqlText.Identifier(Key)} IS NOT NULL" +
            (EventTime is null ? "" : $" AND {SqlText.Identifier(EventTime)} IS NOT NULL") + (Value is null ? "" : $" AND {truth} IS NOT NULL");
        return new JoinPlan(string.Join("\nUNION ALL\n", selects), labelSql, truth, Value is null, EventTime is not null, HorizonDays, ScoreDate);
    }

    static DateOnly AsDate(object value) => value is DateOnly date ? date : DateOnly.FromDateTime((DateTime)value);

    static bool IsTemporal(string type) => type == "DATE" || type.StartsWith("TIMESTAMP", StringComparison.Ordinal);

    static bool IsNumeric(string type) => type is "TINYINT" or "SMALLINT" or "INTEGER" or "BIGINT" or "HUGEINT" or "UTINYINT" or "USMALLINT" or "UINTEGER" or "UBIGINT" or "FLOAT" or "DOUBLE" || type.StartsWith("DECIMAL", StringComparison.Ordinal);

    /// <summary>The label as text: 'true'/'false' (binary), the number (regression), the class (multiclass); a label column of the wrong type is an error.</summary>
    string TruthExpression(ModelTask task, string column, string type)
    {
        var c = SqlText.Identifier(column);
        return task switch
        {
            ModelTask.Binary when type == "BOOLEAN" => $"CAST({c} AS VARCHAR)",
            ModelTask.Binary when IsNumeric(type) && !type.StartsWith("DECIMAL", StringComparison.Ordinal) && type is not ("FLOAT" or "DOUBLE") => $"CASE {c} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END",
            ModelTask.Binary when type == "VARCHAR" => $"CAST(TRY_CAST({c} AS BOOLEAN) AS VARCHAR)",
            ModelTask.Binary => throw new StepFailedException($"label column '{column}' of '{LabelInput}' is {type}; a binary model's label must be a BOOLEAN, 0/1 or 'true'/'false'"),
            ModelTask.Regression when IsNumeric(type) => $"CAST(CAST({c} AS DOUBLE) AS VARCHAR)",
            ModelTask.Regression => throw new StepFailedException($"label column '{column}' of '{LabelInput}' is {type}; a regression model's label must be a number"),
            _ => $"CAST({c} AS VARCHAR)",
        };
    }

    /// <summary>Reads the joined window back, grouped by variant, score date and version; warns of duplicate labels and unreadable values.</summary>
    async Task<IReadOnlyList<Group>> ReadGroupsAsync(StepContext context, JoinPlan plan, CancellationToken ct)
    {
        var j = plan.Table(context.Step.Id, "j");
        var duplicates = await DuckDb.RowsAsync(context.Connection, $"SELECT count(*), min(k) FROM {j} WHERE variant = 'champion' AND truths > 1", ct);
        if (duplicates[0][0] is long count && count > 0)
            await context.LogAsync($"{count} prediction(s) match labels that disagree for their key (e.g. {Key} = '{duplicates[0][1]}') in '{LabelInput}': " +
                (plan.HasEventTime ? "the earliest label within the horizon is used" : "they are left out (no event_time says which label came first)"), ct, "warn");
        if (Value is not null)
        {
            var unreadable = await DuckDb.RowsAsync(context.Connection, $"SELECT count(*), min(CAST({SqlText.Identifier(Value)} AS VARCHAR)) FROM {context.InputTable(LabelInput)} WHERE {SqlText.Identifier(Value)} IS NOT NULL AND ({plan.Truth}) IS NULL", ct);
            if (unreadable[0][0] is long bad && bad > 0)
                await context.LogAsync($"{bad} label value(s) of column '{Value}' in '{LabelInput}' are not a valid label (e.g. '{unreadable[0][1]}'); they are left out", ct, "warn");
        }
        var rows = await DuckDb.RowsAsync(context.Connection,
            $"SELECT variant, score_date, model_version, probability, score, predicted_label, truth FROM {j} ORDER BY variant, score_date, model_version, rid", ct);
        var groups = new List<Group>();
        foreach (var row in rows)
        {
            var variant = (string)row[0]! == "shadow" ? PredictionVariant.Shadow : PredictionVariant.Champion;
            var date = AsDate(row[1]!);
            var version = Convert.ToInt32(row[2], CultureInfo.InvariantCulture);
            if (groups.Count == 0 || groups[^1] is var last && (last.Variant, last.ScoreDate, last.Version) != (variant, date, version))
                groups.Add(new Group(variant, date, version, 0, []));
            var group = groups[^1];
            groups[^1] = group with { Scored = group.Scored + 1 };
            if (row[6] is string truth) group.Labelled.Add(new Row(row[3] as double?, row[4] as double?, row[5] as string, truth));
        }
        return groups;
    }

    /// <summary>No prediction in the window: says why (the horizon reaches past the data, or a gap).</summary>
    async Task WarnNothingToEvaluateAsync(StepContext context, DateOnly runDate, DateOnly oldest, DateOnly newest, CancellationToken ct)
    {
        var span = string.Join(" UNION ALL ", Predictions.Select(i => $"SELECT CAST(min({SqlText.Identifier(ScoreDate)}) AS DATE) AS lo, CAST(max({SqlText.Identifier(ScoreDate)}) AS DATE) AS hi FROM {context.InputTable(i)}"));
        var range = (await DuckDb.RowsAsync(context.Connection, $"SELECT min(lo), max(hi) FROM ({span})", ct))[0];
        string F(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var message = range[0] is null or DBNull
            ? $"no predictions yet in {string.Join(", ", Predictions)}; nothing evaluated"
            : AsDate(range[0]!) > newest
                ? $"no score date has a complete {HorizonDays}d horizon as of run.date {F(runDate)}: the oldest predictions are for {F(AsDate(range[0]!))}, evaluable from {F(AsDate(range[0]!).AddDays(HorizonDays))}; nothing evaluated"
                : $"no predictions for score dates {F(oldest)}..{F(newest)} (the {HorizonDays}d horizon ended for them; predictions span {F(AsDate(range[0]!))}..{F(AsDate(range[1]!))}); nothing evaluated";
        await context.LogAsync(message, ct, "warn");
    }

    /// <summary>The task of the model's newest version (every version of a model is trained for the same task).</summary>
    async Task<ModelTask?> TaskAsync(StepContext context, CancellationToken ct) =>
        (await context.Store.GetModelVersionAsync(Model, null, null, ct))?.Task;

}
