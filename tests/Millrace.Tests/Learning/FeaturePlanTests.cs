using DuckDB.NET.Data;
using Millrace.Engine;
using Millrace.Learning;
using Millrace.Storage;

namespace Millrace.Tests.Learning;

/// <summary>How columns become features: by DuckDB type, with include/exclude and the one-hot/hash threshold.</summary>
public sealed class FeaturePlanTests : IDisposable
{
    readonly DuckDBConnection _connection = new("DataSource=:memory:");

    public FeaturePlanTests()
    {
        _connection.Open();
        using var command = _connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE t AS SELECT
                i AS id, 'r' || (i % 3) AS region, 'c' || i AS code, CAST(i * 1.5 AS DOUBLE) AS amount, CAST(i AS DECIMAL(10, 2)) AS price,
                i % 2 = 0 AS flag, DATE '2024-01-01' + CAST(i AS INTEGER) AS day, TIMESTAMP '2024-01-01 00:00:00' + to_hours(i) AS at,
                [i, i] AS pair, i % 2 = 1 AS label
            FROM range(200) r(i)
            """;
        command.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();

    [Theory]
    [InlineData("BIGINT", FeaturePlan.Numeric)]
    [InlineData("INTEGER", FeaturePlan.Numeric)]
    [InlineData("DOUBLE", FeaturePlan.Numeric)]
    [InlineData("FLOAT", FeaturePlan.Numeric)]
    [InlineData("DECIMAL(10,2)", FeaturePlan.Numeric)]
    [InlineData("UTINYINT", FeaturePlan.Numeric)]
    [InlineData("BOOLEAN", FeaturePlan.Boolean)]
    [InlineData("DATE", FeaturePlan.Date)]
    [InlineData("TIMESTAMP", FeaturePlan.Timestamp)]
    [InlineData("TIMESTAMP WITH TIME ZONE", FeaturePlan.Timestamp)]
    [InlineData("VARCHAR", FeaturePlan.Categorical)]
    [InlineData("ENUM('a', 'b')", FeaturePlan.Categorical)]
    [InlineData("BIGINT[]", null)]
    [InlineData("STRUCT(a INTEGER)", null)]
    [InlineData("MAP(VARCHAR, INTEGER)", null)]
    [InlineData("BLOB", null)]
    public void Each_type_has_a_role(string type, string? role) => Assert.Equal(role, FeaturePlan.RoleOf(type));

    [Fact]
    public void Every_column_but_the_label_and_the_excluded_ones_is_planned_by_type()
    {
        var plan = FeaturePlan.Plan(_connection, "t", "label", [], ["id", "pair"], categoricalThreshold: 50);

        Assert.Equal(
            [
                new FeatureColumn("region", "VARCHAR", FeaturePlan.Categorical, "onehot"),
                new FeatureColumn("code", "VARCHAR", FeaturePlan.Categorical, "hash"),
                new FeatureColumn("amount", "DOUBLE", FeaturePlan.Numeric, "none"),
                new FeatureColumn("price", "DECIMAL(10,2)", FeaturePlan.Numeric, "none"),
                new FeatureColumn("flag", "BOOLEAN", FeaturePlan.Boolean, "none"),
                new FeatureColumn("day", "DATE", FeaturePlan.Date, "none"),
                new FeatureColumn("at", "TIMESTAMP", FeaturePlan.Timestamp, "none"),
            ],
            plan);
    }

    [Fact]
    public void Include_keeps_only_the_named_columns()
    {
        var plan = FeaturePlan.Plan(_connection, "t", "label", ["amount", "region"], [], categoricalThreshold: 2);

        Assert.Equal([("region", "hash"), ("amount", "none")], plan.Select(f => (f.Name, f.Encoding)));
    }

    [Theory]
    [InlineData(2, "hash")]
    [InlineData(3, "onehot")]
    [InlineData(4, "onehot")]
    public void Text_is_one_hot_up_to_the_threshold_and_hashed_above(int threshold, string encoding)
    {
        // region has 3 distinct values.
        var plan = FeaturePlan.Plan(_connection, "t", "label", ["region"], [], threshold);

        Assert.Equal(encoding, Assert.Single(plan).Encoding);
    }

    [Fact]
    public void Dates_and_timestamps_become_their_parts()
    {
        var day = FeaturePlan.Columns(new FeatureColumn("day", "DATE", FeaturePlan.Date, "none")).Select(c => c.Name);
        var at = FeaturePlan.Columns(new FeatureColumn("at", "TIMESTAMP", FeaturePlan.Timestamp, "none")).Select(c => c.Name);

        Assert.Equal(["day.dayofweek", "day.day", "day.month"], day);
        Assert.Equal(["at.dayofweek", "at.day", "at.month", "at.hour"], at);
    }

    [Theory]
    [InlineData(new[] { "nope" }, new string[0], "label", "column 'nope' is not in the training data")]
    [InlineData(new string[0], new[] { "nope" }, "label", "column 'nope' is not in the training data")]
    [InlineData(new string[0], new string[0], "nope", "column 'nope' is not in the training data")]
    [InlineData(new[] { "pair" }, new string[0], "label", "column 'pair' has type BIGINT[], which cannot be a feature; exclude it or cast it in SQL")]
    [InlineData(new[] { "label" }, new string[0], "label", "no feature columns are left after include/exclude")]
    public void A_bad_feature_selection_names_the_column(string[] include, string[] exclude, string label, string message)
    {
        var error = Assert.Throws<StepFailedException>(() => FeaturePlan.Plan(_connection, "t", label, include, exclude, 50));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }
}
