using System.Text.RegularExpressions;
using Millrace.Definitions;
using Millrace.Parameters;
using YamlDotNet.RepresentationModel;

namespace Millrace.Reports;

/// <summary>How a KPI value is shown.</summary>
public enum KpiFormat { Number, Percent, Currency }

/// <summary>The kinds of chart a report can draw.</summary>
public enum ChartType { Line, Bar, Scatter, Histogram }

/// <summary>
/// A pre-defined report as written in a <c>report</c> step: a title and sections of blocks (KPIs, charts, tables,
/// text). Text may hold parameters; SQL is expanded like a <c>sql</c> step's (typed literals).
/// </summary>
public sealed partial record ReportDefinition(string Title, IReadOnlyList<ReportSectionDefinition> Sections)
{
    /// <summary>The block kinds a section may hold, each written as a one-key mapping (<c>- kpi: {…}</c>).</summary>
    public static readonly IReadOnlyList<string> BlockKinds = ["kpi", "chart", "table", "text"];

    internal static readonly string[] KpiFields = ["label", "sql", "format", "decimals", "symbol", "better"];
    internal static readonly string[] ChartFields = ["type", "sql", "x", "y", "title", "x_label", "y_label", "bins"];
    internal static readonly string[] TableFields = ["sql", "limit", "title", "name"];

    /// <summary>
    /// Parses <c>sections</c> from a step's options (the step reads <paramref name="title"/>). Every problem is
    /// recorded on <paramref name="reader"/> with its line and column; returns null when there was one.
    /// </summary>
    public static ReportDefinition? Parse(YamlMappingNode map, YamlNodeReader reader, string title)
    {
        var errorsBefore = reader.Errors.Count;
        var sections = new List<ReportSectionDefinition>();
        var tableNames = new HashSet<string>(StringComparer.Ordinal);
        var tableCount = 0;
        switch (YamlNodeReader.Find(map, "sections"))
        {
            case null:
                reader.Error(map, "missing required field 'sections' (a list of { title, blocks: [ kpi | chart | table | text ] })");
                break;
            case YamlSequenceNode list:
                foreach (var item in list)
                {
                    if (item is not YamlMappingNode section)
                    {
                        reader.Error(item, "each section is a mapping: { title: ..., blocks: [...] }");
                        continue;
                    }
                    reader.RejectUnknownKeys(section, ["title", "blocks"], "a report section");
                    var blocks = new List<ReportBlockDefinition>();
                    switch (YamlNodeReader.Find(section, "blocks"))
                    {
                        case null:
                            reader.Error(section, "missing required field 'blocks' (a list of kpi, chart, table or text blocks)");
                            break;
                        case YamlSequenceNode blockList:
                            foreach (var blockNode in blockList)
                                if (ParseBlock(blockNode, reader, tableNames, ref tableCount) is { } block) blocks.Add(block);
                            break;
                        case var other:
                            reader.Error(other, "'blocks' must be a list of kpi, chart, table or text blocks");
                            break;
                    }
                    sections.Add(new ReportSectionDefinition(reader.String(section, "title"), blocks));
                }
                if (list.Children.Count == 0) reader.Error(list, "a report needs at least one section");
                break;
            case var other:
                reader.Error(other, "'sections' must be a list of { title, blocks }");
                break;
        }
        return reader.Errors.Count > errorsBefore ? null : new ReportDefinition(title, sections);
    }

    static ReportBlockDefinition? ParseBlock(YamlNode node, YamlNodeReader reader, HashSet<string> tableNames, ref int tableCount)
    {
        if (node is not YamlMappingNode { Children.Count: 1 } block)
        {
            reader.Error(node, $"a block is a mapping with one key: {string.Join(", ", BlockKinds)} (e.g. '- kpi: {{ label: ..., sql: ... }}')");
            return null;
        }
        var (keyNode, value) = block.Children.Single();
        var kind = (keyNode as YamlScalarNode)?.Value ?? "";
        switch (kind)
        {
            case "text":
                if (value is YamlScalarNode { Value: { } text }) return new TextDefinition(text);
                reader.Error(value, "a text block is a string (paragraphs separated by blank lines; parameters allowed)");
                return null;
            case "kpi" or "chart" or "table" when value is not YamlMappingNode:
                reader.Error(value, $"a {kind} block is a mapping of its options");
                return null;
            case "kpi":
                return ParseKpi((YamlMappingNode)value, reader);
            case "chart":
                return ParseChart((YamlMappingNode)value, reader);
            case "table":
                tableCount++;
                return ParseTable((YamlMappingNode)value, reader, tableNames, tableCount);
            default:
                reader.Error(keyNode, $"unknown block '{kind}' (known: {string.Join(", ", BlockKinds)})");
                return null;
        }
    }

    static KpiDefinition? ParseKpi(YamlMappingNode map, YamlNodeReader reader)
    {
        reader.RejectUnknownKeys(map, KpiFields, "a kpi block");
        var label = reader.String(map, "label", required: true);
        var sql = RequiredSql(map, reader);
        var formatText = reader.String(map, "format") ?? "number";
        KpiFormat? format = formatText switch { "number" => KpiFormat.Number, "percent" => KpiFormat.Percent, "currency" => KpiFormat.Currency, _ => null };
        if (format is null) reader.Error(YamlNodeReader.Find(map, "format")!, $"format must be number, percent or currency, got '{formatText}'");
        var decimals = reader.Int(map, "decimals", min: 0);
        if (decimals > 10) reader.Error(YamlNodeReader.Find(map, "decimals")!, "decimals must be at most 10");
        var better = reader.String(map, "better") ?? "higher";
        if (better is not ("higher" or "lower")) reader.Error(YamlNodeReader.Find(map, "better")!, $"better must be higher or lower, got '{better}'");
        if (label is null || sql is null || format is null) return null;
        return new KpiDefinition(label, sql, format.Value, decimals, reader.String(map, "symbol") ?? "$", better == "higher");
    }

    static ChartDefinition? ParseChart(YamlMappingNode map, YamlNodeReader reader)
    {
        reader.RejectUnknownKeys(map, ChartFields, "a chart block");
        var typeText = reader.String(map, "type", required: true);
        ChartType? type = typeText switch { "line" => ChartType.Line, "bar" => ChartType.Bar, "scatter" => ChartType.Scatter, "histogram" => ChartType.Histogram, null => null, _ => null };
        if (typeText is not null && type is null) reader.Error(YamlNodeReader.Find(map, "type")!, $"chart type must be line, bar, scatter or histogram, got '{typeText}'");
        var sql = RequiredSql(map, reader);
        var y = reader.StringList(map, "y").Select(v => v.Value).ToList();
        var bins = reader.Int(map, "bins", min: 1) ?? 20;
        if (bins > 500) reader.Error(YamlNodeReader.Find(map, "bins")!, "bins must be at most 500");
        if (YamlNodeReader.Find(map, "bins") is { } binsNode && type is not ChartType.Histogram) reader.Error(binsNode, "'bins' applies to histogram charts only");
        if (type is ChartType.Histogram && y.Count > 0) reader.Error(YamlNodeReader.Find(map, "y")!, "a histogram counts the values of 'x'; it takes no 'y'");
        if (type is null || sql is null) return null;
        return new ChartDefinition(type.Value, sql, reader.String(map, "x"), y, reader.String(map, "title"), reader.String(map, "x_label"), reader.String(map, "y_label"), bins);
    }

    static TableDefinition? ParseTable(YamlMappingNode map, YamlNodeReader reader, HashSet<string> names, int position)
    {
        reader.RejectUnknownKeys(map, TableFields, "a table block");
        var sql = RequiredSql(map, reader);
        var limit = reader.Int(map, "limit", min: 1) ?? 100;
        var title = reader.String(map, "title");
        var name = reader.String(map, "name");
        if (name is not null && !ProjectLoader.IsIdentifier(name))
            reader.Error(YamlNodeReader.Find(map, "name")!, $"table name '{name}' names its CSV file: letters, digits and '_' only");
        name ??= Slug(title) ?? $"table_{position}";
        var unique = name;
        for (var n = 2; !names.Add(unique); n++) unique = $"{name}_{n}";
        return sql is null ? null : new TableDefinition(sql, limit, title, unique);
    }

    static string? RequiredSql(YamlMappingNode map, YamlNodeReader reader)
    {
        var sql = reader.String(map, "sql", required: true);
        if (sql is not null && string.IsNullOrWhiteSpace(sql)) reader.Error(YamlNodeReader.Find(map, "sql")!, "'sql' is empty");
        return string.IsNullOrWhiteSpace(sql) ? null : sql;
    }

    /// <summary>A file-name slug of a title (parameter references left out): "Top at-risk customers" → top_at_risk_customers.</summary>
    internal static string? Slug(string? title)
    {
        if (title is null) return null;
        var withoutReferences = Template.FindReferences(title).Reverse().Aggregate(title, (text, r) => text.Remove(r.Index, r.Length));
        var slug = NonWord().Replace(withoutReferences.ToLowerInvariant(), "_").Trim('_');
        if (slug.Length > 60) slug = slug[..60].TrimEnd('_');
        return slug.Length == 0 || char.IsDigit(slug[0]) ? null : slug;
    }

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NonWord();
}

/// <summary>A titled section of a report and its blocks, in order.</summary>
public sealed record ReportSectionDefinition(string? Title, IReadOnlyList<ReportBlockDefinition> Blocks);

/// <summary>One block of a report section.</summary>
public abstract record ReportBlockDefinition;

/// <summary>A KPI: one value from SQL, shown with its change against the previous run of the report.</summary>
public sealed record KpiDefinition(string Label, string Sql, KpiFormat Format, int? Decimals, string Symbol, bool HigherIsBetter) : ReportBlockDefinition;

/// <summary>A chart of SQL results: <see cref="X"/> against one or more <see cref="Y"/> series (or a histogram of <see cref="X"/>).</summary>
public sealed record ChartDefinition(ChartType Type, string Sql, string? X, IReadOnlyList<string> Y, string? Title, string? XLabel, string? YLabel, int Bins) : ReportBlockDefinition;

/// <summary>A table of SQL results: the first <see cref="Limit"/> rows in the page, every row in <c>&lt;FileName&gt;.csv</c>.</summary>
public sealed record TableDefinition(string Sql, int Limit, string? Title, string FileName) : ReportBlockDefinition;

/// <summary>Markdown-ish text with parameters.</summary>
public sealed record TextDefinition(string Text) : ReportBlockDefinition;
