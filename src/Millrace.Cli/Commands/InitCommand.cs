using System.CommandLine;
using System.Globalization;
using Millrace.Cli.Output;
using Millrace.Definitions;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace init [DIR] [--id ID]</c>: a new project from a template, with a day of sample data.</summary>
public static class InitCommand
{
    public static Command Create(CliContext context)
    {
        var directory = new Argument<string>("directory") { Description = "Folder for the new project (default: the current folder).", DefaultValueFactory = _ => "." };
        var id = new Option<string?>("--id") { Description = "Project id (default: the folder name); it is the projectId of the API." };
        var command = new Command("init", "Create a new project: millrace.yaml, a workflow, a pipeline and a day of sample data.");
        command.Arguments.Add(directory);
        command.Options.Add(id);
        command.SetAction(context.Guard(async (parse, ct) =>
        {
            var root = Path.GetFullPath(parse.GetValue(directory)!);
            if (File.Exists(Path.Combine(root, ProjectLoader.ProjectFileName)))
                throw new CliException($"{root} already holds a project ({ProjectLoader.ProjectFileName})");
            var projectId = parse.GetValue(id) ?? new string(Path.GetFileName(root).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());
            var today = DateOnly.FromDateTime(context.Clock.GetUtcNow().UtcDateTime);
            Write(root, ProjectLoader.ProjectFileName, $"""
                # A Millrace project: definitions are text, versioned with git. See docs/definitions.md.
                id: {projectId}
                name: {projectId}
                lake: ./lake
                """);
            Write(root, "workflows/daily_sales.yaml", """
                name: daily_sales
                description: Read the day's sales, keep them as history, and publish revenue per region.
                parameters:
                  min_amount: { type: double, default: 0, description: Ignore sales below this amount in the report. }
                steps:
                  - id: sales
                    type: read
                    path: raw/sales/dt=${run.date}/*.csv
                    schema: { order_id: BIGINT, region: VARCHAR, amount: DOUBLE }

                  - id: history
                    type: write
                    input: sales
                    dataset: sales
                    mode: replace_partitions
                    partition_by: [dt]

                  - id: revenue
                    type: sql
                    inputs: [sales]
                    sql: |
                      SELECT region, count(*) AS orders, sum(amount) AS revenue
                      FROM sales WHERE amount >= $min_amount
                      GROUP BY region ORDER BY region

                  - id: report
                    type: write
                    input: revenue
                    path: reports/revenue/dt=${run.date}/revenue.csv
                """);
            Write(root, "pipelines/daily.yaml", """
                name: daily
                workflows: [daily_sales]
                schedule: { cron: "0 6 * * *", timezone: UTC }
                """);
            var rows = string.Join("\n", Enumerable.Range(1, 12).Select(i => string.Create(CultureInfo.InvariantCulture, $"{i},{(i % 3) switch { 0 => "north", 1 => "south", _ => "east" }},{10 + i * 7.5}")));
            Write(root, $"lake/raw/sales/dt={today:yyyy-MM-dd}/sales.csv", "order_id,region,amount\n" + rows + "\n");
            Write(root, ".gitignore", ".millrace/\nlake/\n");
            // The store is created here (or by a new project's first run): later, a missing store means a lost one.
            await using (await CliContext.OpenStoreAsync(Project.Open(root), ct, create: true)) { }
            var console = Terminal.For(context);
            console.MarkupLine($"created project [bold]{Markup.Escape(projectId)}[/] in {Markup.Escape(root)}");
            console.MarkupLine(Markup.Escape($"next: cd {Path.GetRelativePath(Environment.CurrentDirectory, root)} && millrace validate && millrace run daily"));
            return CliApp.Success;
        }));
        return command;
    }

    static void Write(string root, string relative, string content)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content.EndsWith('\n') ? content : content + "\n");
    }
}
