using System.CommandLine;
using Millrace.Cli.Output;
using Millrace.Definitions.Options;
using Millrace.Engine;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace steps [kind]</c>: the step catalog, or one kind's options.</summary>
public static class StepsCommand
{
    public static Command Create(CliContext context)
    {
        var kind = new Argument<string?>("kind") { Description = "Show this kind's options.", Arity = ArgumentArity.ZeroOrOne };
        var markdown = new Option<bool>("--markdown") { Description = "Print the options as the Markdown tables of docs/definitions.md." };
        var command = new Command("steps", "List the step kinds a workflow can use, or the options of one.");
        command.Arguments.Add(kind);
        command.Options.Add(markdown);
        command.SetAction(context.Guard((parse, _) =>
        {
            var console = Terminal.For(context);
            var name = parse.GetValue(kind);
            if (name is not null && StepCatalog.Default.Kinds.All(k => k.Name != name))
                throw new CliException($"unknown step kind '{name}' (known: {string.Join(", ", StepCatalog.Default.Kinds.Select(k => k.Name))})", CliApp.UsageError);
            if (parse.GetValue(markdown))
            {
                foreach (var k in StepCatalog.Default.Kinds.Where(k => name is null || k.Name == name))
                    context.Output.Write((name is null ? $"### {k.Name}\n\n" : "") + OptionsMarkdown.Table(k.Shape) + (name is null ? "\n" : ""));
                return Task.FromResult(CliApp.Success);
            }
            if (name is null)
            {
                var table = new Table().AddColumns("kind", "what it does", "options");
                foreach (var k in StepCatalog.Default.Kinds)
                    table.AddRow(k.Name, Markup.Escape(k.Summary), Markup.Escape(string.Join(", ", k.Options.Select(o => o.Required ? o.Name + "*" : o.Name))));
                console.Write(table);
                console.MarkupLine("[grey]* required. 'millrace steps <kind>' shows a kind's options.[/]");
                return Task.FromResult(CliApp.Success);
            }
            StepCatalog.Default.TryGet(name, out var found);
            console.MarkupLine($"[bold]{found.Name}[/]: {Markup.Escape(found.Summary)}");
            var options = new Table().AddColumns("option", "type", "default", "meaning");
            foreach (var o in found.Options)
                options.AddRow(o.Name, Markup.Escape(o.Type), o.Required ? "required" : Markup.Escape(o.Default ?? ""), Markup.Escape(JsonSchemaWriter.Plain(o.Description)));
            console.Write(options);
            return Task.FromResult(CliApp.Success);
        }));
        return command;
    }
}
