using Spectre.Console;

namespace Millrace.Cli.Output;

/// <summary>Spectre.Console over the command's output writer: colours and live progress on a terminal, plain text otherwise.</summary>
public static class Terminal
{
    public static IAnsiConsole For(CliContext context)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(context.Output),
            Ansi = context.Interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = context.Interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = context.Interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!context.Interactive) console.Profile.Width = 200;
        return console;
    }

    public static string Duration(TimeSpan? duration) => duration switch
    {
        null => "",
        { TotalSeconds: < 10 } d => $"{d.TotalSeconds:0.00}s",
        { TotalMinutes: < 2 } d => $"{d.TotalSeconds:0.0}s",
        { } d => $"{(int)d.TotalMinutes}m{d.Seconds:00}s",
    };

    public static string Rows(long? rows) => rows is null ? "" : rows.Value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);

    public static string StatusMarkup(Storage.RunStatus status) => status switch
    {
        Storage.RunStatus.Succeeded => "[green]succeeded[/]",
        Storage.RunStatus.Failed => "[red]failed[/]",
        Storage.RunStatus.Cancelled => "[yellow]cancelled[/]",
        Storage.RunStatus.Running => "[blue]running[/]",
        Storage.RunStatus.Skipped => "[grey]skipped[/]",
        Storage.RunStatus.UpToDate => "[green]up to date[/]",
        _ => status.ToString().ToLowerInvariant(),
    };
}
