using Millrace.Storage;

namespace Millrace.Tests.Storage;

/// <summary>Retrain decisions (<see cref="IRetrainStore"/>): one per run, the last asked one per retrain pipeline as history, the triggered run set later.</summary>
public abstract partial class MetadataStoreContract
{
    static RetrainRecord Decision(string run, bool asked, DateTimeOffset at, string retrain = "training") => new()
    {
        RunId = run, ProjectId = "shop", Pipeline = "daily", RetrainPipeline = retrain, Asked = asked, AskedBy = asked ? "drift" : null,
        Reason = asked ? "drift PSI 0.5 on x reached 0.3" : "no trigger reached its threshold", Psi = 0.5, WorstFeature = "x", DriftRows = 200,
        Metric = asked ? null : 0.81, ChampionVersion = 3, DecidedAt = at,
    };

    [SkippableFact]
    public async Task A_retrain_decision_sees_the_last_asked_one_of_its_pipeline_and_is_kept_once_per_run()
    {
        var seen = new List<RetrainRecord?>();
        RetrainRecord Decide(RetrainRecord? last, RetrainRecord mine) { seen.Add(last); return mine; }

        await Store.DecideRetrainAsync("shop", "training", "r1", last => Decide(last, Decision("r1", true, T0)), None);
        await Store.DecideRetrainAsync("shop", "training", "r2", last => Decide(last, Decision("r2", false, T0.AddHours(1))), None);
        await Store.DecideRetrainAsync("shop", "other", "r3", last => Decide(last, Decision("r3", true, T0.AddHours(2), "other")), None);
        var again = await Store.DecideRetrainAsync("shop", "training", "r2", _ => throw new InvalidOperationException("decided twice"), None);
        await Store.SetRetrainRunAsync("r1", "training-run", None);

        Assert.Equal([null, "r1", null], seen.Select(s => s?.RunId));
        Assert.False(again.Asked);
        var r1 = await Store.GetRetrainDecisionAsync("r1", None);
        Assert.Equal((true, "drift", "training-run", 0.5, "x", 200L, 3, T0), (r1!.Asked, r1.AskedBy, r1.TriggeredRunId, r1.Psi, r1.WorstFeature, r1.DriftRows, r1.ChampionVersion, r1.DecidedAt));
        var r2 = await Store.GetRetrainDecisionAsync("r2", None);
        Assert.Equal(("no trigger reached its threshold", 0.81, (string?)null), (r2!.Reason, r2.Metric, r2.AskedBy));
        Assert.Null(await Store.GetRetrainDecisionAsync("missing", None));
    }
}
