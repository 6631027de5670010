namespace Millrace.Reports;

/// <summary>
/// A report with its data filled in, ready for <see cref="HtmlReportRenderer"/>: what the page shows and nothing that
/// varies between two renderings of the same data (no clock time, no run id), so the HTML is reproducible.
/// </summary>
public sealed record ReportDocument
{
    public required string Title { get; init; }
    /// <summary>The report's folder name under <c>reports/</c>.</summary>
    public required string Name { get; init; }
    public required DateOnly RunDate { get; init; }
    /// <summary>The run date of the report's previous run that KPI changes are measured against, if any.</summary>
    public DateOnly? PreviousDate { get; init; }
    public required IReadOnlyList<ReportSection> Sections { get; init; }
}

/// <summary>A section: a heading and its blocks.</summary>
public sealed record ReportSection(string? Title, IReadOnlyList<ReportBlock> Blocks);

/// <summary>One rendered block.</summary>
public abstract record ReportBlock;

/// <summary>A KPI value with the previous run's value.</summary>
public sealed record KpiBlock(KpiValue Kpi) : ReportBlock;

/// <summary>A chart as inline SVG (already normalized by <see cref="ChartBuilder"/>); null when there was nothing to draw, with <see cref="Note"/> saying so.</summary>
public sealed record ChartBlock(string? Title, string? Svg, string? Note = null) : ReportBlock;

/// <summary>
/// A table: header, cells as display text, which columns are numeric (right-aligned), how many rows the query
/// returned in all and the CSV file holding every row (relative to the page).
/// </summary>
public sealed record TableBlock(string? Title, IReadOnlyList<string> Columns, IReadOnlyList<bool> Numeric, IReadOnlyList<IReadOnlyList<string>> Rows, long TotalRows, string? CsvFile) : ReportBlock;

/// <summary>Markdown-ish text, parameters already expanded (rendered by <see cref="ReportText"/>, escaped).</summary>
public sealed record TextBlock(string Text) : ReportBlock;

/// <summary>A binary classifier's confusion matrix on its holdout.</summary>
public sealed record ConfusionMatrixBlock(string? Title, double TruePositives, double FalsePositives, double TrueNegatives, double FalseNegatives) : ReportBlock;
