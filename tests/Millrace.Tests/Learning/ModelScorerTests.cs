using DuckDB.NET.Data;
using Microsoft.ML;
using Millrace.Learning;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Learning;

/// <summary>
/// <see cref="ModelScorer"/> on enough rows to score in parallel ranges: every row is scored once, and the result
/// is the same, row for row, as scoring in one range.
/// </summary>
public sealed class ModelScorerTests(TrainedChurnProject trained) : IClassFixture<TrainedChurnProject>
{
    const int Rows = 100_001;

    static long Scalar(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Parallel_ranges_score_every_row_once_and_the_same_as_one_range()
    {
        var version = await trained.Project.ModelAsync("churn", 1);
        var ml = new MLContext(0);
        ITransformer model;
        using (var stream = File.OpenRead(trained.Project.LakePath(version.Path))) model = ml.Model.Load(stream, out _);
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"""
                SET threads = 2;
                CREATE TABLE input AS SELECT
                    i AS customer_id, ['north', 'south', 'east', 'west'][i % 4 + 1] AS region, CASE WHEN i % 3 = 0 THEN 'pro' ELSE 'basic' END AS plan,
                    'c' || (i % 150) AS code, (i * 7) % 10 AS tickets, CAST((i * 13) % 100 AS DOUBLE) AS minutes,
                    DATE '2023-01-01' + CAST(i % 365 AS INTEGER) AS signup, TIMESTAMP '2024-01-01 00:00:00' + to_hours(i % 2000) AS last_seen, i % 2 = 0 AS premium
                FROM range({Rows}) r(i)
                """;
            command.ExecuteNonQuery();
        }
        var numbered = ModelScorer.Number(connection, "input", "numbered");

        Assert.Equal(Rows, ModelScorer.Score(ml, model, version, connection, numbered, "one_range", parallelism: 1));
        Assert.Equal(Rows, ModelScorer.Score(ml, model, version, connection, numbered, "ranges", parallelism: 2));

        Assert.Equal(Rows, Scalar(connection, "SELECT count(DISTINCT __row) FROM ranges WHERE __row BETWEEN 0 AND " + (Rows - 1)));
        Assert.Equal(Rows, Scalar(connection, "SELECT count(*) FROM ranges"));
        Assert.Equal(0, Scalar(connection, """
            SELECT count(*) FROM one_range o FULL JOIN ranges r USING (__row)
            WHERE o.score IS DISTINCT FROM r.score OR o.probability IS DISTINCT FROM r.probability OR o.predicted_label IS DISTINCT FROM r.predicted_label
            """));
        // Each prediction is its own row's: churn follows tickets.
        var agree = Scalar(connection, "SELECT count(*) FROM ranges JOIN numbered USING (__row) WHERE predicted_label = (tickets >= 5)");
        Assert.True(agree > Rows * 0.95, $"only {agree} of {Rows} predictions follow their row's tickets");
    }
}
