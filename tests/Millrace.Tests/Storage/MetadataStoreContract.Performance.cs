using Millrace.Storage;

namespace Millrace.Tests.Storage;

/// <summary>Realized performance points: one per (model, version, variant, score date), replaced on rerun, listed by range and version.</summary>
public abstract partial class MetadataStoreContract
{
    static PerformancePoint Point(int version, DateOnly date, double auc, PredictionVariant variant = PredictionVariant.Champion, long labelled = 80, string run = "run-1") => new()
    {
        ProjectId = "shop", Model = "churn", Version = version, Variant = variant, ScoreDate = date,
        Metrics = new Dictionary<string, double> { ["auc"] = auc, ["log_loss"] = 0.4 }, ScoredRows = 100, LabelledRows = labelled, RunId = run, RecordedAt = T0,
    };

    [SkippableFact]
    public async Task Performance_points_are_kept_per_version_variant_and_date_and_a_rerun_replaces_its_point()
    {
        var d1 = new DateOnly(2026, 3, 1);
        var d2 = d1.AddDays(1);
        await Store.AddPerformanceAsync([Point(1, d1, 0.81), Point(1, d2, 0.79), Point(2, d2, 0.84, PredictionVariant.Shadow), Point(1, d2.AddDays(1), double.NaN)], None);
        await Store.AddPerformanceAsync([Point(1, d2, 0.77, labelled: 90, run: "run-2")], None);

        var all = await Store.ListPerformanceAsync("shop", "churn", null, null, null, None);
        Assert.Equal([(d1, 1, PredictionVariant.Champion), (d2, 1, PredictionVariant.Champion), (d2, 2, PredictionVariant.Shadow), (d2.AddDays(1), 1, PredictionVariant.Champion)],
            all.Select(p => (p.ScoreDate, p.Version, p.Variant)));
        var replaced = all[1];
        Assert.Equal((0.77, 90L, "run-2", 0.9), (replaced.Metrics["auc"], replaced.LabelledRows, replaced.RunId, replaced.Coverage));
        Assert.False(all[3].Metrics.ContainsKey("auc"));
        Assert.Equal(0.4, all[3].Metrics["log_loss"]);

        var v1 = await Store.ListPerformanceAsync("shop", "churn", 1, d2, d2, None);
        Assert.Equal(0.77, Assert.Single(v1).Metrics["auc"]);
        Assert.Empty(await Store.ListPerformanceAsync("shop", "other", null, null, null, None));
    }
}
