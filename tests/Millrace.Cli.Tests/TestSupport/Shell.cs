using System.Diagnostics;

namespace Millrace.Cli.Tests.TestSupport;

/// <summary>What a CLI invocation returned.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}{Environment.NewLine}--- stdout ---{Environment.NewLine}{Output}--- stderr ---{Environment.NewLine}{Error}";
}

/// <summary>Runs the <c>millrace</c> command in this process (fast) or as a child process (for kills and signals).</summary>
public static class Shell
{
    /// <summary>Runs the command line in-process with captured output.</summary>
    public static async Task<CliResult> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await CliApp.RunAsync(args, output, error);
        return new CliResult(exit, output.ToString(), error.ToString());
    }

    /// <summary>The CLI assembly next to the tests (the project reference copies it).</summary>
    public static string Assembly => Path.Combine(AppContext.BaseDirectory, "Millrace.Cli.dll");

    /// <summary>Starts the CLI as a child process with extra environment variables; output is redirected.</summary>
    public static Process Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Assembly);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return Process.Start(info)!;
    }

    /// <summary>Runs the CLI as a child process to its end (at most <paramref name="timeout"/>).</summary>
    public static async Task<CliResult> RunProcessAsync(IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, params string[] args)
    {
        using var process = Start(environment, args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"millrace {string.Join(' ', args)} did not finish within {timeout}");
        }
        return new CliResult(process.ExitCode, await output, await error);
    }
}
