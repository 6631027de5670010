namespace Millrace.Quality;

/// <summary>Median, MAD and the robust z-score: outlier-resistant statistics for volume and time-series checks.</summary>
public static class RobustStatistics
{
    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Median absolute deviation from the median.</summary>
    public static double Mad(IReadOnlyList<double> values)
    {
        var median = Median(values);
        return Median(values.Select(v => Math.Abs(v - median)).ToList());
    }

    /// <summary>
    /// 0.6745 (x − median) / MAD: about a standard z-score for normal data, but not dragged by earlier outliers.
    /// With a MAD of 0, any difference is infinitely far.
    /// </summary>
    public static double Z(double value, double median, double mad) =>
        mad > 0 ? 0.6745 * (value - median) / mad : value == median ? 0 : double.PositiveInfinity * Math.Sign(value - median);
}
