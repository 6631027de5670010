using DuckDB.NET.Data;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Parameters;

namespace Millrace.Reports;

/// <summary>
/// Fills a <see cref="ReportDefinition"/> with data: runs each block's SQL on the step's DuckDB connection, reads KPI
/// values, chart series and table rows, writes each table's CSV to the report's staging folder and returns the
/// document to render. An error names the section and block it came from.
/// </summary>
internal sealed class ReportBuilder(StepContext context, ReportOutput output, KpiSnapshot? previous)
{
    /// <summary>Most rows a line, bar or scatter chart draws; more is an error that asks for an aggregate.</summary>
    public const int MaxChartRows = 10_000;

    readonly List<KpiValue> _kpis = [];
    readonly List<string> _tables = [];
    int _block;
    int _charts;

    /// <summary>Every KPI of the report, in order.</summary>
    public IReadOnlyList<KpiValue> Kpis => _kpis;

    /// <summary>The CSV files written, in order.</summary>
    public IReadOnlyList<string> Tables => _tables;

    public async Task<ReportDocument> BuildAsync(ReportDefinition definition, CancellationToken ct)
    {
        var sections = new List<ReportSection>();
        foreach (var section in definition.Sections)
        {
            var title = section.Title is null ? null : context.Expand(section.Title);
            var blocks = new List<ReportBlock>();
            foreach (var block in section.Blocks)
            {
                _block++;
                var where = $"{(title is null ? $"section {sections.Count + 1}" : $"section '{title}'")}, {Describe(block)}";
                try
                {
                    blocks.Add(block switch
                    {
                        KpiDefinition kpi => await KpiAsync(kpi, ct),
                        ChartDefinition chart => await ChartAsync(chart, ct),
                        TableDefinition table => await TableAsync(table, ct),
                        TextDefinition text => new TextBlock(context.Expand(text.Text)),
                        _ => throw new InvalidOperationException($"unknown block {block.GetType().Name}"),
                    });
                }
                catch (DuckDBException e)
                {
                    throw new StepFailedException($"{where}: SQL failed: {e.Message.Split('\n')[0].Trim()}", e);
                }
                catch (StepFailedException e)
                {
                    throw new StepFailedException($"{where}: {e.Message}", e);
                }
                catch (ParameterException e)
                {
                    throw new StepFailedException($"{where}: {e.Message}", e);
                }
            }
            sections.Add(new ReportSection(title, blocks));
        }
        return new ReportDocument
        {
            Title = context.Expand(definition.Title), Name = output.Name, RunDate = output.RunDate, PreviousDate = previous?.RunDate, Sections = sections,
        };
    }

    static string Describe(ReportBlockDefinition block) => block switch
    {
        KpiDefinition k => $"kpi '{k.Label}'",
        ChartDefinition c => c.Title is null ? $"{c.Type.ToString().ToLowerInvariant()} chart" : $"chart '{c.Title}'",
        TableDefinition t => t.Title is null ? $"table '{t.FileName}'" : $"table '{t.Title}'",
        _ => "text",
    };

    string TempName => $"__report_{context.Step.Id}_{_block}";

    async Task<ReportBlock> KpiAsync(KpiDefinition definition, CancellationToken ct)
    {
        var label = context.Expand(definition.Label);
        await using var query = await ReportQuery.RunAsync(context.Connection, TempName, context.ExpandSql(definition.Sql), ct);
        if (query.Columns.Count != 1)
            throw new StepFailedException($"a KPI's SQL must return one value (one column), it returned {query.Columns.Count} columns: {string.Join(", ", query.Columns.Select(c => c.Name))}");
        if (query.RowCount > 1) throw new StepFailedException($"a KPI's SQL must return one value (one row), it returned {query.RowCount} rows; aggregate, or add LIMIT 1");
        double? value = null;
        if (query.RowCount == 1)
        {
            var cell = (await query.ReadAsync(null, 1, ct))[0][0];
            if (cell is not null && !ReportQuery.IsNumeric(query.Columns[0].Type) && cell is not bool)
                throw new StepFailedException($"a KPI's value must be a number, got {query.Columns[0].Type} '{cell}'");
            value = ReportQuery.ToDouble(cell);
        }
        var kpi = new KpiValue(label, value, KpiHistory.PreviousValue(previous, label), definition.Format, definition.Decimals, definition.Symbol, definition.HigherIsBetter);
        _kpis.Add(kpi);
        return new KpiBlock(kpi);
    }

    async Task<ReportBlock> ChartAsync(ChartDefinition definition, CancellationToken ct)
    {
        await using var query = await ReportQuery.RunAsync(context.Connection, TempName, context.ExpandSql(definition.Sql), ct);
        if (query.Columns.Count == 0) throw new StepFailedException("the chart's SQL returned no columns");
        var x = definition.X is null ? query.Columns[0] : query.Column(definition.X);
        var title = definition.Title is null ? null : context.Expand(definition.Title);
        var options = new ChartOptions(definition.Type)
        {
            XLabel = definition.XLabel is null ? x.Name : context.Expand(definition.XLabel),
            YLabel = definition.YLabel is null ? null : context.Expand(definition.YLabel),
            Description = title,
        };
        ChartData data;
        if (definition.Type == ChartType.Histogram)
        {
            if (!ReportQuery.IsNumeric(x.Type)) throw new StepFailedException($"a histogram needs a numeric column; '{x.Name}' is {x.Type}");
            var (histogram, width) = await HistogramAsync(query, x.Name, definition.Bins, ct);
            if (histogram.Series.Count == 0) return new ChartBlock(title, null, $"No values of '{x.Name}' to draw.");
            data = histogram;
            options = options with { BarWidth = width, YLabel = options.YLabel ?? "rows" };
        }
        else
        {
            var ys = definition.Y.Count > 0
                ? definition.Y.Select(query.Column).ToList()
                : query.Columns.Where(c => c.Name != x.Name && ReportQuery.IsNumeric(c.Type)).ToList();
            if (ys.Count == 0) throw new StepFailedException($"the chart has no numeric column to draw against '{x.Name}' (columns: {string.Join(", ", query.Columns.Select(c => $"{c.Name} {c.Type}"))}); name them in 'y'");
            foreach (var y in ys.Where(y => !ReportQuery.IsNumeric(y.Type)))
                throw new StepFailedException($"y column '{y.Name}' is {y.Type}; a series must be numeric");
            if (query.RowCount == 0) return new ChartBlock(title, null, "No rows to draw.");
            if (query.RowCount > MaxChartRows)
                throw new StepFailedException($"the chart's SQL returned {query.RowCount} rows; a chart draws at most {MaxChartRows} — aggregate the data or add a LIMIT");
            var rows = await query.ReadAsync([x.Name, .. ys.Select(y => y.Name)], null, ct);
            var kind = definition.Type == ChartType.Bar ? ChartAxisKind.Category
                : ReportQuery.IsTemporal(x.Type) ? ChartAxisKind.Date
                : ReportQuery.IsNumeric(x.Type) ? ChartAxisKind.Numeric
                : ChartAxisKind.Category;
            var xs = rows.Select((row, i) => kind switch
            {
                ChartAxisKind.Category => i,
                ChartAxisKind.Date => ReportQuery.ToDateAxis(row[0]),
                _ => ReportQuery.ToDouble(row[0]) ?? double.NaN,
            }).ToList();
            var categories = kind == ChartAxisKind.Category ? rows.Select(r => ReportQuery.Format(r[0], x.Type)).ToList() : [];
            var series = ys.Select((y, j) => new ChartSeries(y.Name, rows.Select(r => ReportQuery.ToDouble(r[j + 1]) ?? double.NaN).ToList())).ToList();
            data = new ChartData(kind, xs, categories, series);
            if (options.YLabel is null && ys.Count == 1) options = options with { YLabel = ys[0].Name };
        }
        return new ChartBlock(title, ChartBuilder.Render(options, data, $"chart{++_charts}"));
    }

    /// <summary>Bins the values of <paramref name="column"/> into equal-width bins in SQL; returns the bars and the bin width.</summary>
    static async Task<(ChartData Data, double Width)> HistogramAsync(ReportQuery query, string column, int bins, CancellationToken ct)
    {
        var value = $"CAST({SqlText.Identifier(column)} AS DOUBLE)";
        var range = await DuckDb.RowsAsync(query.Connection, $"SELECT min({value}), max({value}) FROM {query.Table} WHERE {value} IS NOT NULL AND isfinite({value})", ct);
        if (range[0][0] is null) return (new ChartData(ChartAxisKind.Numeric, [], [], []), 1);
        var low = ReportQuery.ToDouble(range[0][0])!.Value;
        var high = ReportQuery.ToDouble(range[0][1])!.Value;
        var width = high > low ? (high - low) / bins : 1;
        if (high <= low) bins = 1;
        var counts = new double[bins];
        var rows = await DuckDb.RowsAsync(query.Connection, $"""
            SELECT greatest(0, least(CAST(floor(({value} - {Literal(low)}) / {Literal(width)}) AS BIGINT), {bins - 1})) AS bin, count(*)
            FROM {query.Table} WHERE {value} IS NOT NULL AND isfinite({value}) GROUP BY bin ORDER BY bin
            """, ct);
        foreach (var row in rows) counts[Convert.ToInt32(row[0], System.Globalization.CultureInfo.InvariantCulture)] = ReportQuery.ToDouble(row[1])!.Value;
        var centers = Enumerable.Range(0, bins).Select(i => low + width * (i + 0.5)).ToList();
        return (new ChartData(ChartAxisKind.Numeric, centers, [], [new ChartSeries("rows", counts)]), width);
    }

    // A quoted string cast to DOUBLE parses to the same double; a bare 0.0123 literal is a DECIMAL first, and its cast
    // can land one unit in the last place off, which put the minimum value in bin -1.
    static string Literal(double value) => $"CAST('{value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}' AS DOUBLE)";

    async Task<ReportBlock> TableAsync(TableDefinition definition, CancellationToken ct)
    {
        await using var query = await ReportQuery.RunAsync(context.Connection, TempName, context.ExpandSql(definition.Sql), ct);
        var file = definition.FileName + ".csv";
        await query.WriteCsvAsync(output.StagingPath(file), ct);
        _tables.Add(file);
        var rows = await query.ReadAsync(null, definition.Limit, ct);
        var cells = rows.Select(row => (IReadOnlyList<string>)row.Select((value, c) => ReportQuery.Format(value, query.Columns[c].Type)).ToList()).ToList();
        return new TableBlock(definition.Title is null ? null : context.Expand(definition.Title), query.Columns.Select(c => c.Name).ToList(),
            query.Columns.Select(c => ReportQuery.IsNumeric(c.Type)).ToList(), cells, query.RowCount, file);
    }
}
