using System.CommandLine;
using Millrace.Definitions.Schema;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace schema [--kind project|workflow|pipeline]</c>: prints the JSON Schema of the definitions.</summary>
public static class SchemaCommand
{
    public static Command Create(CliContext context)
    {
        var kind = new Option<string?>("--kind")
        {
            Description = "One kind of file: project (millrace.yaml), workflow or pipeline. Default: any definition file.",
        };
        kind.AcceptOnlyFromAmong([.. DefinitionSchemas.Kinds]);
        var command = new Command("schema", "Print the JSON Schema (draft 2020-12) of the definitions, for editors (VS Code: yaml.schemas).");
        command.Options.Add(kind);
        command.SetAction(context.Guard((parse, _) =>
        {
            context.Output.Write(DefinitionSchemas.ToJson(parse.GetValue(kind)));
            return Task.FromResult(CliApp.Success);
        }));
        return command;
    }
}
