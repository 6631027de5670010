using Millrace.Quality;

namespace Millrace.Tests.Quality;

/// <summary>
/// PSI = Σ (actual − expected) · ln(actual / expected), against values worked out by hand (the arithmetic is in the
/// comments), including the 1e-4 floor that keeps an empty bin from making the index infinite.
/// </summary>
public sealed class PsiTests
{
    [Fact]
    public void Identical_distributions_have_a_psi_of_zero()
    {
        Assert.Equal(0, DriftProfile.Psi([0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]));
        Assert.Equal(0, DriftProfile.Psi([0, 0.5, 0.5], [0, 0.5, 0.5])); // an empty bin in both is no change
    }

    [Fact]
    public void Two_bins_half_and_half_against_a_quarter_and_three_quarters()
    {
        // (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5)
        //   = (−0.25)(−0.693147) + (0.25)(0.405465) = 0.173287 + 0.101366 = 0.274653
        Assert.Equal(0.274653, DriftProfile.Psi([0.5, 0.5], [0.25, 0.75]), 6);
    }

    [Fact]
    public void Psi_is_symmetric_without_empty_bins()
    {
        Assert.Equal(0.274653, DriftProfile.Psi([0.25, 0.75], [0.5, 0.5]), 6);
    }

    [Fact]
    public void Ten_equal_deciles_against_a_batch_shifted_into_the_top_half()
    {
        // Expected 0.1 in each of 10 bins; actual 0.02 in the lower five, 0.18 in the upper five.
        // lower: (0.02 − 0.1)·ln(0.2) = (−0.08)(−1.609438) = 0.128755, five times = 0.643775
        // upper: (0.18 − 0.1)·ln(1.8) = (0.08)(0.587787)  = 0.047023, five times = 0.235115
        // total 0.878890: far above the 0.3 threshold.
        double[] expected = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];
        double[] actual = [0.02, 0.02, 0.02, 0.02, 0.02, 0.18, 0.18, 0.18, 0.18, 0.18];
        Assert.Equal(0.878890, DriftProfile.Psi(expected, actual), 5);
    }

    [Fact]
    public void A_small_shift_stays_below_the_threshold()
    {
        // (0.3 − 0.25)·ln(1.2) + (0.2 − 0.25)·ln(0.8) + 0 + 0
        //   = (0.05)(0.182322) + (−0.05)(−0.223144) = 0.009116 + 0.011157 = 0.020273
        Assert.Equal(0.020273, DriftProfile.Psi([0.25, 0.25, 0.25, 0.25], [0.3, 0.2, 0.25, 0.25]), 6);
        Assert.True(DriftProfile.Psi([0.25, 0.25, 0.25, 0.25], [0.3, 0.2, 0.25, 0.25]) < DriftProfile.DefaultThreshold);
    }

    [Fact]
    public void An_empty_bin_is_floored_at_one_in_ten_thousand()
    {
        // Bin 2 was empty in the reference (0 → 1e-4) and holds 0.1 now:
        // (0.9 − 1)·ln(0.9) + (0.1 − 0.0001)·ln(0.1 / 0.0001)
        //   = (−0.1)(−0.105361) + (0.0999)(6.907755) = 0.010536 + 0.690085 = 0.700621
        Assert.Equal(0.700621, DriftProfile.Psi([1, 0], [0.9, 0.1]), 6);
        // A category that vanished: (0.0001 − 0.2)·ln(0.0001/0.2) + (1 − 0.8)·ln(1/0.8)
        //   = (−0.1999)(−7.600902) + (0.2)(0.223144) = 1.519420 + 0.044629 = 1.564049
        Assert.Equal(1.564049, DriftProfile.Psi([0.2, 0.8], [0, 1]), 6);
    }

    [Fact]
    public void Distributions_with_different_bins_cannot_be_compared()
    {
        Assert.Throws<ArgumentException>(() => DriftProfile.Psi([0.5, 0.5], [0.2, 0.3, 0.5]));
    }

    [Fact]
    public void The_default_threshold_is_0_3()
    {
        Assert.Equal(0.3, DriftProfile.DefaultThreshold);
    }
}

/// <summary>Median, MAD and the robust z-score on small series worked out by hand.</summary>
public sealed class RobustStatisticsTests
{
    [Fact]
    public void Median_of_odd_and_even_counts_and_of_nothing()
    {
        Assert.Equal(3, RobustStatistics.Median([5, 1, 3]));
        Assert.Equal(2.5, RobustStatistics.Median([4, 1, 3, 2]));
        Assert.True(double.IsNaN(RobustStatistics.Median([])));
    }

    [Fact]
    public void Mad_is_the_median_distance_from_the_median_and_ignores_one_spike()
    {
        // median 100; distances 0, 4, 4, 2, 2 → median 2.
        Assert.Equal(2, RobustStatistics.Mad([100, 96, 104, 98, 102]));
        // a spike moves the median to 101 and the MAD to 3, where a standard deviation would jump to about 81.
        Assert.Equal(3, RobustStatistics.Mad([100, 96, 104, 98, 102, 300]));
    }

    [Fact]
    public void Z_is_0_6745_times_the_distance_over_the_mad()
    {
        Assert.Equal(67.45, RobustStatistics.Z(300, 100, 2), 9);   // 0.6745 · 200 / 2
        Assert.Equal(-3.3725, RobustStatistics.Z(90, 100, 2), 9);  // 0.6745 · −10 / 2
        Assert.Equal(0, RobustStatistics.Z(100, 100, 2));
    }

    [Fact]
    public void With_a_mad_of_zero_any_difference_is_infinitely_far()
    {
        Assert.Equal(double.PositiveInfinity, RobustStatistics.Z(101, 100, 0));
        Assert.Equal(double.NegativeInfinity, RobustStatistics.Z(99, 100, 0));
        Assert.Equal(0, RobustStatistics.Z(100, 100, 0));
    }
}
