using System.Globalization;
using System.Text.RegularExpressions;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Reports;

/// <summary>
/// The model report's champion section draws every figure from one holdout, the one stored with the version: when
/// the champion was trained in an earlier run, today's holdout rows (a step input) are other rows and are shown apart.
/// </summary>
public sealed partial class ModelReportHoldoutTests
{
    [GeneratedRegex("From v1&#39;s scores of its own holdout [^:]*: ([0-9,]+) positive and ([0-9,]+) negative rows")]
    private static partial Regex OwnRoc();

    [GeneratedRegex("From v1&#39;s scores of <code>holdout</code>: ([0-9,]+) positive and ([0-9,]+) negative rows")]
    private static partial Regex InputRoc();

    static long N(Group g) => long.Parse(g.Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_champion_from_an_earlier_run_is_shown_on_its_own_holdout_with_counts_that_agree()
    {
        await using var project = new TestProject();
        project.LakeFile("raw/customers.csv", LearningData.Customers());
        project.Workflow("train", """
            name: train
            steps:
              - id: data
                type: read
                path: raw/customers.csv
              - id: fit
                type: train
                input: data
                model: churn
                task: binary
                label: churned
                features: { exclude: [customer_id] }
                options: { iterations: 30 }
                promote: { metric: auc, min_improvement: 0.5 }
              - id: holdout
                type: sql
                inputs: [data]
                sql: SELECT * FROM data WHERE customer_id % 3 = 0
              - id: churn_report
                type: model_report
                inputs: [fit, holdout]
                model: churn
            """);
        await project.RunForDateAsync("train", "2026-03-01");
        // More data the next day: v2 cannot beat v1 by 0.5, so v1 stays champion, trained and evaluated a day earlier.
        project.LakeFile("raw/customers.csv", LearningData.Customers(rows: 900, seed: 2));
        await project.RunForDateAsync("train", "2026-03-02");

        var v1 = await project.ModelAsync("churn", 1);
        Assert.Equal(1, (await project.AliasesAsync("churn"))["champion"]);
        var html = project.ReportFile("model_churn", "2026-03-02");
        Assert.Contains("<h2>Champion v1</h2>", html, StringComparison.Ordinal);
        Assert.Contains($"evaluated on {v1.HoldoutRows:N0} holdout rows", html, StringComparison.Ordinal);
        // The confusion matrix, the ROC curve and the summary count the same rows.
        Assert.Equal(v1.HoldoutRows, (long)(v1.Metrics["tp"] + v1.Metrics["fp"] + v1.Metrics["tn"] + v1.Metrics["fn"]));
        var own = OwnRoc().Match(html);
        Assert.True(own.Success, "the champion's ROC curve is drawn on its own holdout");
        Assert.Equal(v1.HoldoutRows, N(own.Groups[1]) + N(own.Groups[2]));
        Assert.Equal((long)(v1.Metrics["tp"] + v1.Metrics["fn"]), N(own.Groups[1]));
        // Today's rows are another set, shown in a section of their own with their own count.
        var today = InputRoc().Match(html);
        Assert.True(today.Success, "the input's curve is drawn apart");
        Assert.Equal(300, N(today.Groups[1]) + N(today.Groups[2]));
        Assert.True(html.IndexOf("<h2>v1 on holdout</h2>", StringComparison.Ordinal) < today.Index);
        Assert.True(today.Index > own.Index);
    }
}
