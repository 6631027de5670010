using System.CommandLine;
using Millrace.Cli.Output;
using Millrace.Engine;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace steps [kind]</c>: the step catalog, or one kind's options.</summary>
public static class StepsCommand
{
    public static Command Create(CliContext context)
    {
        var kind = new Argument<string?>("kind") { Description = "Show this kind's options.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("steps", "List the step kinds a workflow can use, or the options of one.");
        command.Arguments.Add(kind);
        command.SetAction(context.Guard((parse, _) =>
        {
            var console = Terminal.For(context);
            var name = parse.GetValue(kind);
            if (name is null)
            {
                var table = new Table().AddColumns("kind", "what it does", "options");
                foreach (var k in StepCatalog.Default.Kinds)
                    table.AddRow(k.Name, Markup.Escape(k.Summary), Markup.Escape(string.Join(", ", k.Options.Select(o => o.Required ? o.Name + "*" : o.Name))));
                console.Write(table);
                console.MarkupLine("[grey]* required. 'millrace steps <kind>' shows a kind's options.[/]");
                return Task.FromResult(CliApp.Success);
            }
            if (!StepCatalog.Default.TryGet(name, out var found))
                throw new CliException($"unknown step kind '{name}' (known: {string.Join(", ", StepCatalog.Default.Kinds.Select(k => k.Name))})", CliApp.UsageError);
            console.MarkupLine($"[bold]{found.Name}[/]: {Markup.Escape(found.Summary)}");
            var options = new Table().AddColumns("option", "type", "required", "meaning");
            foreach (var o in found.Options) options.AddRow(o.Name, Markup.Escape(o.Type), o.Required ? "yes" : "", Markup.Escape(o.Description));
            console.Write(options);
            return Task.FromResult(CliApp.Success);
        }));
        return command;
    }
}
