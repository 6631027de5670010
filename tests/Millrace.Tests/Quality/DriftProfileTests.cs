using DuckDB.NET.Data;
using Millrace.Quality;

namespace Millrace.Tests.Quality;

/// <summary>
/// Drift profiles on tiny DuckDB tables: numeric columns binned by the reference's deciles (bin 0 holds NULLs, one
/// bin per edge, one above the last), categorical ones by their most frequent values plus an "other" bin for
/// categories the reference never saw.
/// </summary>
public sealed class DriftProfileTests : IDisposable
{
    readonly DuckDBConnection _connection = new("DataSource=:memory:");

    public DriftProfileTests()
    {
        _connection.Open();
        Execute("""
            CREATE TABLE reference AS SELECT * FROM (VALUES
                (1, 'a'), (2, 'a'), (3, 'a'), (4, 'b'), (5, 'b'), (6, 'c'), (7, NULL), (8, 'b'), (9, 'a'), (10, 'c'), (NULL, 'a'), (NULL, 'b')
            ) t(x, color);
            """);
    }

    public void Dispose() => _connection.Dispose();

    void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Fact]
    public void A_numeric_profile_has_the_reference_deciles_as_edges_and_nulls_in_bin_0()
    {
        var profile = Assert.Single(DriftProfile.Profile(_connection, "reference", [("x", true)]));

        // Deciles of 1..10 (NULLs ignored), interpolated: 1 + 9q → 1.9, 2.8, …, 9.1.
        Assert.Equal(("x", "numeric"), (profile.Feature, profile.Kind));
        Assert.Equal([1.9, 2.8, 3.7, 4.6, 5.5, 6.4, 7.3, 8.2, 9.1], profile.Edges!.Select(e => Math.Round(e, 9)));
        Assert.Null(profile.Categories);
        // 12 rows: 2 NULLs in bin 0, then one value per bin (1 ≤ 1.9, 2 ≤ 2.8, …, 9 ≤ 9.1, 10 above).
        Assert.Equal(11, profile.Proportions.Length);
        Assert.Equal(2.0 / 12, profile.Proportions[0], 12);
        Assert.All(profile.Proportions.Skip(1), p => Assert.Equal(1.0 / 12, p, 12));
        Assert.Equal(1, profile.Proportions.Sum(), 12);
    }

    [Fact]
    public void A_categorical_profile_orders_categories_by_frequency_and_keeps_null_and_other_bins()
    {
        var profile = Assert.Single(DriftProfile.Profile(_connection, "reference", [("color", false)]));

        Assert.Equal(("color", "categorical"), (profile.Feature, profile.Kind));
        Assert.Equal(["a", "b", "c"], profile.Categories!); // a ×5, b ×4, c ×2
        Assert.Null(profile.Edges);
        // bins: NULL, a, b, c, other
        Assert.Equal([1.0 / 12, 5.0 / 12, 4.0 / 12, 2.0 / 12, 0], profile.Proportions, new ToleranceComparer());
    }

    [Fact]
    public void A_batch_falls_into_the_reference_bins_with_unseen_categories_in_other_and_nulls_in_bin_0()
    {
        var color = Assert.Single(DriftProfile.Profile(_connection, "reference", [("color", false)]));
        var x = Assert.Single(DriftProfile.Profile(_connection, "reference", [("x", true)]));
        Execute("CREATE TABLE batch AS SELECT * FROM (VALUES (0.5, 'a'), (1.5, 'd'), (9.5, 'e'), (100, NULL)) t(x, color)");

        Assert.Equal([0.25, 0.25, 0, 0, 0.5], DriftProfile.Proportions(_connection, "batch", color));
        // 0.5 and 1.5 are ≤ 1.9 (bin 1); 9.5 and 100 are above 9.1 (bin 10).
        Assert.Equal([0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0.5], DriftProfile.Proportions(_connection, "batch", x));
    }

    [Fact]
    public void An_empty_batch_has_all_zero_proportions()
    {
        var x = Assert.Single(DriftProfile.Profile(_connection, "reference", [("x", true)]));
        Execute("CREATE TABLE empty_batch (x DOUBLE)");

        Assert.All(DriftProfile.Proportions(_connection, "empty_batch", x), p => Assert.Equal(0, p));
    }

    [Fact]
    public void A_constant_column_has_one_edge_and_three_bins()
    {
        Execute("CREATE TABLE constant AS SELECT 5 AS v FROM range(20)");
        var profile = Assert.Single(DriftProfile.Profile(_connection, "constant", [("v", true)]));

        Assert.Equal([5.0], profile.Edges!);
        Assert.Equal([0, 1, 0], profile.Proportions); // NULL, ≤ 5 (an edge belongs to the bin below it), > 5
        Execute("CREATE TABLE moved AS SELECT 6 AS v FROM range(10)");
        // Every row left the reference's only bin: (1 − 1e-4)·ln(1/1e-4) + (1e-4 − 1)·ln(1e-4/1) = 2 · 0.9999 · 9.210340
        Assert.Equal(18.41884, DriftProfile.Psi(profile.Proportions, DriftProfile.Proportions(_connection, "moved", profile)), 4);
    }

    [Fact]
    public void Only_the_twenty_most_frequent_categories_get_their_own_bin()
    {
        // Category k appears 30 − k times (k = 0..24): the five least frequent fall into "other".
        Execute("CREATE TABLE many AS SELECT 'k' || lpad(CAST(k AS VARCHAR), 2, '0') AS cat FROM range(25) r(k), range(30) n(i) WHERE i < 30 - k");
        var profile = Assert.Single(DriftProfile.Profile(_connection, "many", [("cat", false)]));

        Assert.Equal(Enumerable.Range(0, 20).Select(k => $"k{k:00}"), profile.Categories);
        Assert.Equal(22, profile.Proportions.Length);
        var total = Enumerable.Range(0, 25).Sum(k => 30 - k);
        Assert.Equal((double)Enumerable.Range(20, 5).Sum(k => 30 - k) / total, profile.Proportions[21], 12);
    }

    [Fact]
    public void A_where_filter_profiles_only_the_matching_rows()
    {
        var profile = Assert.Single(DriftProfile.Profile(_connection, "reference", [("color", false)], where: "x <= 5"));

        // Rows 1..5: a, a, a, b, b.
        Assert.Equal(["a", "b"], profile.Categories!);
        Assert.Equal([0, 0.6, 0.4, 0], profile.Proportions);
    }

    [Fact]
    public void The_psi_of_the_reference_against_itself_is_zero()
    {
        foreach (var profile in DriftProfile.Profile(_connection, "reference", [("x", true), ("color", false)]))
            Assert.Equal(0, DriftProfile.Psi(profile.Proportions, DriftProfile.Proportions(_connection, "reference", profile)), 12);
    }

    sealed class ToleranceComparer : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) < 1e-12;
        public int GetHashCode(double value) => 0;
    }
}
