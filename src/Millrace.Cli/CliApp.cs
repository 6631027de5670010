using System.CommandLine;
using Millrace.Cli.Commands;
using Millrace.Parameters;

namespace Millrace.Cli;

/// <summary>The <c>millrace</c> command line: builds the command tree and runs it.</summary>
public static class CliApp
{
    /// <summary>
    /// Exit codes: 0 success, 1 failure (run failed, invalid project), 2 usage error, 3 skipped (the pipeline had
    /// <c>max_active</c> runs active: <c>on_overlap: skip</c> or <c>--no-wait</c>), 130 cancelled.
    /// </summary>
    public const int Success = 0, Failure = 1, UsageError = 2, Skipped = 3, Cancelled = 130;

    /// <summary>
    /// Runs the command line <paramref name="args"/>. The process's host: its clock is <paramref name="clock"/>
    /// (default <see cref="TimeProvider.System"/>), its crash points <paramref name="faults"/> (default: those
    /// <c>MILLRACE_FAULT</c> names) and its step kinds <paramref name="catalog"/> (default: the built-in ones).
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, TimeProvider? clock = null, Engine.FaultInjector? faults = null,
        Engine.StepCatalog? catalog = null)
    {
        // '--var NAME = VALUE' spans three shell words; System.CommandLine would see two stray arguments, so the
        // --var sequences are taken out first and parsed exactly as Sparkflows parses workflowParameters.
        IReadOnlyList<KeyValuePair<string, string>> variables;
        string[] rest;
        try
        {
            (variables, rest) = ExtractVariables(args);
        }
        catch (VarSyntaxException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return UsageError;
        }

        using var context = new CliContext(output, error, variables, catalog)
        {
            Clock = clock ?? TimeProvider.System,
            // The process's host reads its environment here, once: the library takes these as instances.
            Node = Environment.GetEnvironmentVariable("MILLRACE_NODE_NAME") is { Length: > 0 } nodeName ? Engine.NodeIdentity.Named(nodeName) : Engine.NodeIdentity.Process,
            Faults = faults ?? Engine.FaultInjector.Parse(Environment.GetEnvironmentVariable(Engine.FaultInjector.EnvironmentVariable), point =>
            {
                error.WriteLine($"{Engine.FaultInjector.EnvironmentVariable}: killing the process at {point}");
                error.Flush();
                Engine.FaultInjector.KillProcess(point);
            }),
        };
        var root = new RootCommand("Millrace: continuous machine learning for .NET. Keeps models and reports current as data lands in the lake.");
        root.Options.Add(CliContext.ProjectOption);
        root.Options.Add(CliContext.VerboseOption);
        root.Options.Add(CliContext.CreateStoreOption);
        foreach (var command in new[]
                 {
                     InitCommand.Create(context), ValidateCommand.Create(context), RunCommand.Create(context), RunsCommand.Create(context), StatusCommand.Create(context),
                     StepsCommand.Create(context), DatasetsCommand.Create(context), QuickstartCommand.Create(context),
                     RerunCommand.CreateRerun(context), RerunCommand.CreateRetry(context), BackfillCommand.Create(context), GcCommand.Create(context),
                     AnomaliesCommand.Create(context), ModelsCommand.Create(context), PublishCommand.Create(context), StaleCommand.Create(context), ServeCommand.Create(context), TokenCommand.Create(context),
                     SchemaCommand.Create(context),
                 })
            root.Subcommands.Add(command);

        var parse = root.Parse(rest);
        if (parse.Errors.Count > 0 && !rest.Any(a => a is "-h" or "--help" or "-?"))
        {
            foreach (var problem in parse.Errors) await error.WriteLineAsync($"error: {problem.Message}");
            await error.WriteLineAsync("see 'millrace --help' or 'millrace <command> --help'");
            return UsageError;
        }
        if (variables.Count > 0 && parse.CommandResult.Command.Name is not ("run" or "backfill"))
        {
            await error.WriteLineAsync("error: --var applies to 'millrace run' and 'millrace backfill' only");
            return UsageError;
        }
        // Ctrl-C cancels the run's token; the run then records itself as cancelled, which takes a moment.
        // The server commands stop themselves on Ctrl-C within their own shutdown timeout: no forced exit for them.
        var serving = parse.CommandResult.Command.Name is "serve" || (parse.CommandResult.Command.Name is "quickstart" && !rest.Contains("--no-serve"));
        var configuration = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = serving ? TimeSpan.FromHours(1) : TimeSpan.FromSeconds(30) };
        return await parse.InvokeAsync(configuration);
    }

    internal static (IReadOnlyList<KeyValuePair<string, string>> Variables, string[] Remaining) ExtractVariables(string[] args)
    {
        var rest = new List<string>();
        var tokens = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] != "--var" && !args[i].StartsWith("--var=", StringComparison.Ordinal)) { rest.Add(args[i]); continue; }
            tokens.Add("--var");
            if (args[i].StartsWith("--var=", StringComparison.Ordinal)) { tokens.Add(args[i]["--var=".Length..]); continue; }
            // Take NAME=VALUE, or NAME = VALUE, NAME= VALUE, NAME =VALUE: words until the first '=' has a value after it.
            var taken = 0;
            var text = "";
            while (i + 1 < args.Length && args[i + 1] != "--var")
            {
                var equals = text.IndexOf('=', StringComparison.Ordinal);
                if (equals >= 0 && equals < text.Length - 1) break;
                text += (taken++ == 0 ? "" : " ") + args[++i];
                tokens.Add(args[i]);
            }
            if (taken == 0) throw new VarSyntaxException("'--var' is not followed by NAME=VALUE");
        }
        return (tokens.Count == 0 ? [] : VarParser.ParseTokens(tokens), rest.ToArray());
    }
}
