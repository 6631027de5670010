using System.CommandLine;
using Millrace.Cli.Output;
using Millrace.Definitions;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace datasets [name]</c>: every dataset's latest version, or one dataset's versions.</summary>
public static class DatasetsCommand
{
    public static Command Create(CliContext context)
    {
        var name = new Argument<string?>("name") { Description = "List this dataset's versions.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("datasets", "List datasets and their committed versions.");
        command.Arguments.Add(name);
        command.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.LoadProject(parse);
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            var console = Terminal.For(context);
            var dataset = parse.GetValue(name);
            var versions = dataset is null ? await store.ListDatasetsAsync(ct) : await store.ListDatasetVersionsAsync(dataset, ct);
            if (versions.Count == 0)
            {
                console.MarkupLine(dataset is null ? "no datasets yet" : $"dataset '{Markup.Escape(dataset)}' has no committed version");
                return dataset is null ? CliApp.Success : CliApp.Failure;
            }
            // A version its run's stale mark covers: a late or corrected file landed for that run's date since.
            var stale = await store.GetOpenStaleMarksAsync(versions.Select(v => v.RunId).ToList(), ct);
            var table = new Table().AddColumns("dataset", "version", "rows", "files", "columns", "operation", "run", "committed (UTC)", "stale");
            foreach (var v in versions)
                table.AddRow(Markup.Escape(v.Dataset), $"v{v.Version}", Terminal.Rows(v.Rows), v.Files.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Markup.Escape(string.Join(", ", v.Schema.Select(c => $"{c.Name} {c.Type}"))), v.Operation, v.RunId, $"{v.CreatedAt:yyyy-MM-dd HH:mm:ss}",
                    stale.TryGetValue(v.RunId, out var mark) ? "[yellow]stale[/]: " + Markup.Escape(mark.Reason) : "");
            console.Write(table);
            return CliApp.Success;
        }));
        return command;
    }
}
