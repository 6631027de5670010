using Microsoft.ML;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Steps;

/// <summary>
/// The holdout a binary version was evaluated on, kept with it (<c>models/&lt;name&gt;/v&lt;N&gt;/holdout.parquet</c>:
/// one row a holdout row, its score and label), so the model report draws the ROC curve from the very rows its
/// metrics and confusion matrix come from.
/// </summary>
public sealed partial class TrainStep
{
    /// <summary>The lake path of a version's holdout scores, next to its model file.</summary>
    public static string HoldoutPath(ModelVersion version) => HoldoutPath(version.Path);

    static string HoldoutPath(string modelPath) => modelPath[..(modelPath.LastIndexOf('/') + 1)] + "holdout.parquet";

    async Task StageHoldoutAsync(StepContext context, IDataView scored, string staging, string modelPath, CancellationToken ct)
    {
        var probability = scored.Schema["Probability"];
        var label = scored.Schema[Learning.ModelBuilder.LabelColumn];
        var table = $"__holdout_{context.Step.Id}";
        await DuckDb.ExecuteAsync(context.Connection, $"CREATE TABLE {SqlText.Identifier(table)} (probability DOUBLE, label BOOLEAN)", ct);
        using (var cursor = scored.GetRowCursor([probability, label]))
        using (var appender = context.Connection.CreateAppender(table))
        {
            var (getScore, getLabel) = (cursor.GetGetter<float>(probability), cursor.GetGetter<bool>(label));
            float p = 0;
            var y = false;
            while (cursor.MoveNext())
            {
                getScore(ref p);
                getLabel(ref y);
                appender.CreateRow().AppendValue((double)p).AppendValue(y).EndRow();
            }
        }
        var staged = Path.Combine(staging, "holdout.parquet");
        await DuckDb.ExecuteAsync(context.Connection, $"COPY {SqlText.Identifier(table)} TO {SqlText.Quote(staged)} (FORMAT parquet); DROP TABLE {SqlText.Identifier(table)};", ct);
        context.Commit.AddStagedFile(new StagedFile(context.Lake.ToRelative(staged), HoldoutPath(modelPath)));
    }
}
