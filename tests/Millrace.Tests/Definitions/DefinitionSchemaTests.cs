using System.Text.Json.Nodes;
using Millrace.Definitions.Options;
using Millrace.Definitions.Schema;
using Millrace.Engine;
using Millrace.Learning;
using Millrace.Quality;
using Millrace.Steps;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Definitions;

/// <summary>
/// The JSON Schema generated from the options records, checked with an independent validator (JsonSchema.Net):
/// it accepts the sample and every test project (see <see cref="TestProject.Open"/>) and rejects what the loader rejects.
/// </summary>
public sealed class DefinitionSchemaTests
{
    static string Fixture(string relative) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "churn", relative);

    [Fact]
    public void The_schema_accepts_every_file_of_the_sample_project()
    {
        var files = Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures", "churn"), "*.yaml", SearchOption.AllDirectories).ToList();
        Assert.True(files.Count >= 8, $"the sample's files are copied to the test output ({files.Count} found)");
        SchemaValidation.AssertAccepted(Path.Combine(AppContext.BaseDirectory, "Fixtures", "churn"));
    }

    [Fact]
    public void The_schema_rejects_an_unknown_step_option_naming_it()
    {
        var problems = SchemaValidation.Problems("workflow", "steps:\n  - id: events\n    type: read\n    path: raw/*.csv\n    fromat: csv\n");
        Assert.Contains(problems, p => p.StartsWith("/steps/0/fromat", StringComparison.Ordinal));
        Assert.All(problems, p => Assert.Contains("fromat", p, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("steps:\n  - id: c\n    type: check\n    expect: [{ not_null: [a] }]\n    on_failure: drop\n", "/steps/0/on_failure")]
    [InlineData("steps:\n  - id: m\n    type: merge\n    input: x\n    into: d\n    key: id\n    buckets: 5000\n", "/steps/0/buckets")]
    [InlineData("steps:\n  - id: m\n    type: merge\n    input: x\n    into: d\n", "/steps/0")]
    [InlineData("steps:\n  - id: t\n    type: train\n    input: x\n    model: m\n    task: binary\n    label: y\n    validation: { method: time, colum: t }\n", "/steps/0/validation/colum")]
    [InlineData("steps:\n  - id: c\n    type: check\n    expect: [{ range: { column: a, mn: 0 } }]\n", "/steps/0/expect/0/range/mn")]
    [InlineData("steps:\n  - id: r\n    type: report\n    sections: [{ blocks: [{ chart: { type: pie, sql: SELECT 1 } }] }]\n", "/steps/0/sections/0/blocks/0/chart/type")]
    [InlineData("steps:\n  - id: s\n    type: sqll\n    sql: SELECT 1\n", "/steps/0/type")]
    [InlineData("max_paralel: 2\nsteps:\n  - id: s\n    type: sql\n    sql: SELECT 1\n", "/max_paralel")]
    public void The_schema_rejects_what_the_loader_rejects_at_the_same_place(string workflow, string location)
    {
        var problems = SchemaValidation.Problems("workflow", workflow);
        Assert.True(problems.Any(p => p.StartsWith(location + ":", StringComparison.Ordinal)), $"a problem at {location}; got:{Environment.NewLine}{string.Join(Environment.NewLine, problems)}");
    }

    [Theory]
    [InlineData("project", "id: p\nlak: ./lake\n", "/lak")]
    [InlineData("pipeline", "workflows: [a]\nschedule: { cron: '0 6 * * *', tz: UTC }\n", "/schedule/tz")]
    [InlineData("pipeline", "workflows: [a]\nconcurrency: { on_overlap: wait }\n", "/concurrency/on_overlap")]
    [InlineData("pipeline", "workflows: [a]\ntimeout: 10 minutes\n", "/timeout")]
    [InlineData("pipeline", "workflows: [a]\nnotify: [{ url: 'https://x', secret: s, on: [run.exploded] }]\n", "/notify/0/on")]
    public void The_schema_checks_project_and_pipeline_files(string kind, string yaml, string location)
    {
        var problems = SchemaValidation.Problems(kind, yaml);
        Assert.True(problems.Any(p => p.StartsWith(location, StringComparison.Ordinal)), $"a problem at {location}; got:{Environment.NewLine}{string.Join(Environment.NewLine, problems)}");
    }

    [Fact]
    public void The_whole_schema_accepts_each_kind_of_file_and_describes_every_option()
    {
        Assert.Empty(SchemaValidation.Problems("project", File.ReadAllText(Fixture("millrace.yaml"))));
        var whole = JsonSchemaFor(null);
        var defs = whole["$defs"]!.AsObject();
        foreach (var kind in StepCatalog.Default.Kinds)
        {
            var properties = defs[$"step_{kind.Name}"]!["properties"]!.AsObject();
            Assert.Equal(kind.Fields.Order(StringComparer.Ordinal), properties.Select(p => p.Key).Order(StringComparer.Ordinal));
            Assert.All(kind.Shape.Options, o => Assert.False(string.IsNullOrWhiteSpace(properties[o.Name]!["description"]?.GetValue<string>()), $"{kind.Name}.{o.Name} has a description"));
        }
    }

    [Fact]
    public void Lists_used_elsewhere_match_the_options_records()
    {
        Assert.Equal(ModelBuilder.OptionNames, OptionsShape.Of<TrainerOptions>().Names);
        Assert.Equal(TimeSeriesDetector.Buckets, OptionsShape.ChoiceNames(typeof(TimeBucket)));
        Assert.Equal(TimeSeriesDetector.Aggregates, OptionsShape.ChoiceNames(typeof(BucketAggregate)));
        Assert.Equal(TimeSeriesDetector.Seasons, OptionsShape.ChoiceNames(typeof(BucketSeason)));
        Assert.Equal(ModelBuilder.Algorithms.Values.SelectMany(a => a).Distinct().Order(StringComparer.Ordinal), OptionsShape.ChoiceNames(typeof(TrainAlgorithm)).Order(StringComparer.Ordinal));
        var blocks = ReportOptions.SectionsSchema()["items"]!["properties"]!["blocks"]!["items"]!["properties"]!;
        Assert.Equal(Millrace.Reports.ReportDefinition.KpiFields, blocks["kpi"]!["properties"]!.AsObject().Select(p => p.Key));
        Assert.Equal(Millrace.Reports.ReportDefinition.ChartFields, blocks["chart"]!["properties"]!.AsObject().Select(p => p.Key));
        Assert.Equal(Millrace.Reports.ReportDefinition.TableFields, blocks["table"]!["properties"]!.AsObject().Select(p => p.Key));
        Assert.Equal(Millrace.Reports.ReportDefinition.BlockKinds, blocks.AsObject().Select(p => p.Key));
    }

    [Fact]
    public void The_schema_files_in_docs_are_the_generated_ones()
    {
        foreach (var kind in DefinitionSchemas.Kinds)
        {
            var path = Path.Combine(RepositoryRoot(), "docs", "schema", $"{kind}.schema.json");
            Assert.True(File.Exists(path), $"{path} exists (write it with: millrace schema --kind {kind} > docs/schema/{kind}.schema.json)");
            Assert.True(File.ReadAllText(path) == DefinitionSchemas.ToJson(kind),
                $"docs/schema/{kind}.schema.json is stale: run 'millrace schema --kind {kind} > docs/schema/{kind}.schema.json'");
        }
    }

    static JsonObject JsonSchemaFor(string? kind) => DefinitionSchemas.Build(kind);

    /// <summary>The repository's root folder (the one holding Millrace.sln), above the test output.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Millrace.sln"))) return dir.FullName;
        throw new InvalidOperationException("Millrace.sln not found above " + AppContext.BaseDirectory);
    }
}
