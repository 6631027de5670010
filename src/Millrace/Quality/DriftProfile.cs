using System.Globalization;
using DuckDB.NET.Data;
using Millrace.Internal;
using Millrace.Parameters;

namespace Millrace.Quality;

/// <summary>
/// A column's distribution as a drift reference: numeric columns by the reference's deciles (bin 0 holds NULLs),
/// categorical ones by their most frequent values (plus "other" and NULL). Proportions sum to 1.
/// </summary>
public sealed record FeatureProfile(string Feature, string Kind, double[]? Edges, string[]? Categories, double[] Proportions);

/// <summary>Builds drift profiles and measures the population stability index (PSI) of a batch against them.</summary>
public static class DriftProfile
{
    /// <summary>The PSI above which a feature counts as drifted by default (as Sparkflows does).</summary>
    public const double DefaultThreshold = 0.3;

    const int TopCategories = 20;
    const double Floor = 1e-4;

    /// <summary>Profiles <paramref name="columns"/> (name, role: numeric or categorical) of <paramref name="relation"/>.</summary>
    public static IReadOnlyList<FeatureProfile> Profile(DuckDBConnection connection, string relation, IEnumerable<(string Name, bool Numeric)> columns, string? where = null)
    {
        var filter = where is null ? "" : $" WHERE {where}";
        var profiles = new List<FeatureProfile>();
        foreach (var (name, numeric) in columns)
        {
            var column = SqlText.Identifier(name);
            if (numeric)
            {
                var edges = DuckDb.Rows(connection, $"SELECT unnest(quantile_cont(CAST({column} AS DOUBLE), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])) FROM {relation}{filter}")
                    .Where(r => r[0] is not null).Select(r => Convert.ToDouble(r[0], CultureInfo.InvariantCulture)).Distinct().Order().ToArray();
                var profile = new FeatureProfile(name, "numeric", edges, null, []);
                profiles.Add(profile with { Proportions = Proportions(connection, relation, profile, where) });
            }
            else
            {
                var categories = DuckDb.Rows(connection, $"SELECT CAST({column} AS VARCHAR) AS v FROM {relation} WHERE {column} IS NOT NULL{(where is null ? "" : $" AND ({where})")} GROUP BY ALL ORDER BY count(*) DESC, v LIMIT {TopCategories}")
                    .Select(r => (string)r[0]!).ToArray();
                var profile = new FeatureProfile(name, "categorical", null, categories, []);
                profiles.Add(profile with { Proportions = Proportions(connection, relation, profile, where) });
            }
        }
        return profiles;
    }

    /// <summary>The proportions of <paramref name="relation"/>'s rows in each bin of <paramref name="profile"/>.</summary>
    public static double[] Proportions(DuckDBConnection connection, string relation, FeatureProfile profile, string? where = null)
    {
        var column = SqlText.Identifier(profile.Feature);
        string bin;
        int bins;
        if (profile.Kind == "numeric")
        {
            var edges = profile.Edges!;
            bin = $"CASE WHEN {column} IS NULL THEN 0 " + string.Concat(edges.Select((e, i) => $"WHEN CAST({column} AS DOUBLE) <= {e.ToString("R", CultureInfo.InvariantCulture)} THEN {i + 1} ")) + $"ELSE {edges.Length + 1} END";
            bins = edges.Length + 2;
        }
        else
        {
            var categories = profile.Categories!;
            bin = $"CASE WHEN {column} IS NULL THEN 0 " + string.Concat(categories.Select((c, i) => $"WHEN CAST({column} AS VARCHAR) = {SqlText.Quote(c)} THEN {i + 1} ")) + $"ELSE {categories.Length + 1} END";
            bins = categories.Length + 2;
        }
        var counts = new double[bins];
        var total = 0.0;
        foreach (var row in DuckDb.Rows(connection, $"SELECT {bin} AS bin, count(*) FROM {relation}{(where is null ? "" : $" WHERE {where}")} GROUP BY ALL"))
        {
            var count = Convert.ToDouble(row[1], CultureInfo.InvariantCulture);
            counts[Convert.ToInt32(row[0], CultureInfo.InvariantCulture)] = count;
            total += count;
        }
        return total == 0 ? counts : counts.Select(c => c / total).ToArray();
    }

    /// <summary>PSI = Σ (actual − expected) · ln(actual / expected), proportions floored at 1e-4 so empty bins count but do not explode.</summary>
    public static double Psi(IReadOnlyList<double> expected, IReadOnlyList<double> actual)
    {
        if (expected.Count != actual.Count) throw new ArgumentException("the two distributions have different bins");
        var psi = 0.0;
        for (var i = 0; i < expected.Count; i++)
        {
            var e = Math.Max(expected[i], Floor);
            var a = Math.Max(actual[i], Floor);
            psi += (a - e) * Math.Log(a / e);
        }
        return psi;
    }
}
