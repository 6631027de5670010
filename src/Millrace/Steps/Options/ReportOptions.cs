using System.Text.Json.Nodes;
using Millrace.Definitions.Options;
using Millrace.Reports;

namespace Millrace.Steps;

/// <summary>The options of a <c>report</c> step.</summary>
public sealed record ReportOptions
{
    [Option("title", "The page title. Parameters allowed.", Default = "the step id")]
    public string? Title { get; init; }

    [Option("name", "The folder under `reports/`: `reports/<name>/<run.date>/`. Letters, digits, `_` and `-`.", Type = "name", Default = "the step id")]
    public string? Name { get; init; }

    [Option("sections", "Sections in order, each `{ title, blocks }`. Blocks: `kpi: { label, sql, format, decimals, symbol, better }`, `chart: { type, sql, x, y, title, x_label, y_label, bins }`, `table: { sql, limit, title, name }`, `text: \"...\"`.",
        Required = true, Type = "list of { title, blocks }", Schema = nameof(SectionsSchema),
        Missing = "missing required field 'sections' (a list of { title, blocks: [ kpi | chart | table | text ] })")]
    public YamlDotNet.RepresentationModel.YamlNode? Sections { get; init; }

    /// <summary>The JSON Schema of <c>sections</c>.</summary>
    public static JsonObject SectionsSchema()
    {
        static JsonObject Text(string description) => new() { ["type"] = "string", ["description"] = description };
        static JsonObject Int(int min, int max, string description) => new() { ["type"] = "integer", ["minimum"] = min, ["maximum"] = max, ["description"] = description };
        static JsonObject Block(JsonObject properties, params string[] required) => new()
        {
            ["type"] = "object", ["additionalProperties"] = false, ["required"] = new JsonArray([.. required.Select(r => (JsonNode)r)]), ["properties"] = properties,
        };
        var kpi = Block(new JsonObject
        {
            ["label"] = Text("The KPI's label."), ["sql"] = Text("A query returning one value."),
            ["format"] = JsonSchemaWriter.Enum(["number", "percent", "currency"], "How the value is shown (default number)."),
            ["decimals"] = Int(0, 10, "Decimals shown."), ["symbol"] = Text("The currency symbol (default $)."),
            ["better"] = JsonSchemaWriter.Enum(["higher", "lower"], "Which direction of change is good (default higher)."),
        }, "label", "sql");
        var chart = Block(new JsonObject
        {
            ["type"] = JsonSchemaWriter.Enum(OptionsShape.ChoiceNames(typeof(ChartType)), "The chart kind."),
            ["sql"] = Text("The query whose rows are drawn."), ["x"] = Text("The x column."), ["y"] = JsonSchemaWriter.ValueOrList("The y column(s)."),
            ["title"] = Text("The chart's title."), ["x_label"] = Text("The x axis label."), ["y_label"] = Text("The y axis label."),
            ["bins"] = Int(1, 500, "Histogram bins (default 20)."),
        }, "type", "sql");
        var table = Block(new JsonObject
        {
            ["sql"] = Text("The query whose rows are shown."), ["limit"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1, ["description"] = "Most rows shown (default 100)." },
            ["title"] = Text("The table's title."), ["name"] = Text("The CSV file's name: letters, digits and '_'."),
        }, "sql");
        var block = new JsonObject
        {
            ["type"] = "object", ["minProperties"] = 1, ["maxProperties"] = 1, ["additionalProperties"] = false,
            ["properties"] = new JsonObject { ["kpi"] = kpi, ["chart"] = chart, ["table"] = table, ["text"] = Text("Paragraphs separated by blank lines; parameters allowed.") },
        };
        var section = Block(new JsonObject
        {
            ["title"] = Text("The section's title."),
            ["blocks"] = new JsonObject { ["type"] = "array", ["items"] = block },
        }, "blocks");
        return new JsonObject { ["type"] = "array", ["minItems"] = 1, ["items"] = section };
    }
}
