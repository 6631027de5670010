using System.Globalization;

namespace Millrace.Bench;

/// <summary>Whether a figure must stay at or under its target (times, ratios of times) or reach it (throughput).</summary>
public enum TargetKind { AtMost, AtLeast, None }

/// <summary>One line of the summary table: a figure beside its baseline, the ratio and whether it meets its target.</summary>
public sealed record BenchFigure(string Scenario, string What, string Millrace, string Baseline, double Ratio, TargetKind Kind, double Target, string Command)
{
    public string Verdict => Kind switch
    {
        TargetKind.AtMost => Ratio <= Target ? "pass" : "MISS",
        TargetKind.AtLeast => Ratio >= Target ? "pass" : "MISS",
        _ => "-",
    };

    public string TargetText => Kind switch
    {
        TargetKind.AtMost => string.Create(CultureInfo.InvariantCulture, $"<= {Target:0.00}"),
        TargetKind.AtLeast => string.Create(CultureInfo.InvariantCulture, $">= {Target:0.00}"),
        _ => "-",
    };
}

/// <summary>The figures of one bench invocation, printed together at the end as one table with targets and verdicts.</summary>
public static class BenchResults
{
    static readonly List<BenchFigure> Figures = [];

    public static void Add(BenchFigure figure)
    {
        lock (Figures) Figures.Add(figure);
    }

    /// <summary>Prints the summary table and writes it to <c>summary.md</c> (and <c>summary.csv</c>) in <paramref name="output"/>.</summary>
    public static void Print(TextWriter log, string output, string machine)
    {
        if (Figures.Count == 0) return;
        var lines = new List<string>
        {
            "| scenario | what | Millrace | baseline | ratio | target | verdict | command |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
        };
        lines.AddRange(Figures.Select(f => string.Create(CultureInfo.InvariantCulture,
            $"| {f.Scenario} | {f.What} | {f.Millrace} | {f.Baseline} | {(double.IsNaN(f.Ratio) ? "-" : f.Ratio.ToString("0.00", CultureInfo.InvariantCulture))} | {f.TargetText} | {f.Verdict} | `{f.Command}` |")));
        log.WriteLine();
        log.WriteLine("Summary (" + machine + ")");
        foreach (var line in lines) log.WriteLine(line);
        File.WriteAllLines(Path.Combine(output, "summary.md"), ["Summary (" + machine + ")", "", .. lines]);
        File.WriteAllLines(Path.Combine(output, "summary.csv"), ["scenario,what,millrace,baseline,ratio,target,verdict",
            .. Figures.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Scenario},\"{f.What}\",\"{f.Millrace}\",\"{f.Baseline}\",{f.Ratio:0.000},{f.TargetText},{f.Verdict}"))]);
    }

    /// <summary>The machine and its load when the run started, for the record.</summary>
    public static string Machine()
    {
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ').Take(3) : ["?"];
        return $"{Environment.ProcessorCount} cores, load average {string.Join(" ", load)} at start, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC";
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
