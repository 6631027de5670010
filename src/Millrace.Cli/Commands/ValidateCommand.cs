using System.CommandLine;
using Millrace.Cli.Output;
using Millrace.Definitions;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace validate</c>: checks the whole project and lists every error with file:line:column and step id.</summary>
public static class ValidateCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("validate", "Check the project's definitions before anything runs; lists every error.");
        command.SetAction(context.Guard(async (parse, _) =>
        {
            var (project, errors) = Project.Check(context.ProjectDirectory(parse));
            if (errors.Count > 0)
            {
                foreach (var error in errors) await context.Error.WriteLineAsync(error.ToString());
                await context.Error.WriteLineAsync($"{errors.Count} error{(errors.Count == 1 ? "" : "s")} in project '{project.Id}'");
                return CliApp.Failure;
            }
            Terminal.For(context).MarkupLine(Markup.Escape(
                $"project '{project.Id}' is valid: {project.Pipelines.Count} pipeline(s), {project.Workflows.Count} workflow(s), {project.Workflows.Values.Sum(w => w.Steps.Count)} step(s)"));
            return CliApp.Success;
        }));
        return command;
    }
}
