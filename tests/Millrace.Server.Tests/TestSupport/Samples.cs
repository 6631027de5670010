namespace Millrace.Server.Tests.TestSupport;

/// <summary>Small projects the tests serve.</summary>
public static class Samples
{
    /// <summary>
    /// A prediction pipeline on real steps: reads customers from the landing zone, keeps those of <c>$region</c>
    /// with a score above <c>$min_score</c>, and writes them to <c>predictions/</c>.
    /// </summary>
    public static ProjectFolder Prediction(ProjectFolder project) => project
        .LakeFile("raw/customers.csv", "customer_id,region,score\n1,north,0.9\n2,north,0.7\n3,south,0.8\n4,north,0.1\n")
        .Workflow("score", """
            name: score
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: scored
                type: sql
                inputs: [customers]
                sql: SELECT * FROM customers WHERE region = $region AND score > $min_score
              - id: out
                type: write
                input: scored
                path: predictions/dt=${run.date}/${run.id}.csv
                format: csv
            """)
        .Pipeline("prediction", """
            name: prediction
            workflows: [score]
            parameters:
              region: { default: all }
              min_score: { type: double, default: 0.6 }
            concurrency: { max_active: 4, on_overlap: queue }
            """);
}
