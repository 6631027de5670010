using System.Text.RegularExpressions;
using Millrace.Definitions.Options;
using Millrace.Engine;

namespace Millrace.Tests.Definitions;

/// <summary>The docs' tables of step options are the ones generated from the options records (millrace steps KIND --markdown).</summary>
public sealed partial class StepDocsTableTests
{
    [Fact]
    public void Every_step_kind_has_its_generated_options_table_in_the_docs()
    {
        var docs = Path.Combine(DefinitionSchemaTests.RepositoryRoot(), "docs");
        var tables = new Dictionary<string, (string File, string Table)>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(docs, "*.md"))
            foreach (Match match in Block().Matches(File.ReadAllText(file).ReplaceLineEndings("\n")))
                tables.Add(match.Groups["kind"].Value, (Path.GetFileName(file), match.Groups["table"].Value));

        foreach (var kind in StepCatalog.Default.Kinds)
        {
            Assert.True(tables.TryGetValue(kind.Name, out var found), $"docs/*.md has a '<!-- options: {kind.Name} ... -->' table");
            Assert.True(found.Table == OptionsMarkdown.Table(kind.Shape),
                $"the {kind.Name} table in docs/{found.File} is stale: replace it with the output of 'millrace steps {kind.Name} --markdown'");
        }
        Assert.Empty(tables.Keys.Except(StepCatalog.Default.Kinds.Select(k => k.Name)));
    }

    [GeneratedRegex(@"<!-- options: (?<kind>[a-z_]+) [^\n]*-->\n(?<table>.*?)<!-- end options -->", RegexOptions.Singleline)]
    private static partial Regex Block();
}
