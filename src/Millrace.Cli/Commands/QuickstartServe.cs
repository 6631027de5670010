using System.CommandLine;
using System.Globalization;
using Millrace.Definitions;
using Millrace.Server;
using Millrace.Server.Security;
using Millrace.Server.Storage;

namespace Millrace.Cli.Commands;

/// <summary>
/// The end of <c>millrace quickstart</c> (without <c>--no-serve</c>): serves the sample with its schedules active,
/// with a runner token made for it, and prints how to sign in to the web UI with it and a ready-to-paste curl for the
/// Sparkflows-compatible executePipeline and the status poll.
/// </summary>
static class QuickstartServe
{
    /// <summary>The pipeline the printed curl runs.</summary>
    const string Pipeline = "prediction";

    public static async Task<int> ServeAsync(CliContext context, ParseResult parse, string root, DateOnly lastDay, string urls, CancellationToken ct)
    {
        var project = Project.Open(root);
        string token;
        await using (var metadata = await CliContext.OpenStoreAsync(project, ct))
        {
            var store = await ServerStore.OpenAsync(metadata.Database, ct);
            var now = context.Clock.GetUtcNow();
            (var record, token) = ApiTokens.Create(project.Id, TokenRole.Runner, "quickstart", TimeSpan.FromDays(30), now);
            await store.CreateTokenAsync(record, ct);
            await store.AddAuditAsync(new AuditEntry
            {
                At = now, ProjectId = project.Id, Actor = $"cli:{Environment.UserName}", Action = "token.create",
                Target = $"token {record.Id}", Outcome = 0, DetailsJson = """{"role":"runner","name":"quickstart"}""",
            }, ct);
        }
        var pipeline = project.Pipelines.ContainsKey(Pipeline) ? Pipeline : project.Pipelines.Keys.Order(StringComparer.Ordinal).First();
        var options = new ServerOptions
        {
            ProjectDirectories = [root],
            Urls = urls,
            UseConsoleLifetime = false,
            ConfigureLogging = ServeCommand.Logging(parse),
        };
        await context.Output.WriteLineAsync("");
        return await ServeCommand.ServeAsync(context, options, async (_, address) =>
        {
            var date = lastDay.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            await context.Output.WriteLineAsync("");
            var relative = Path.GetRelativePath(Environment.CurrentDirectory, root);
            await context.Output.WriteLineAsync($"A runner token for this sample (valid 30 days; 'millrace token list -p {relative}'):");
            await context.Output.WriteLineAsync($"  {token}");
            await context.Output.WriteLineAsync($"Web UI: open {address}/ in a browser and sign in with that token (runs, models, datasets, anomalies, reports;");
            await context.Output.WriteLineAsync($"  it may start, cancel and retry runs; pausing schedules and promoting models need 'millrace token create --role admin -p {relative}').");
            await context.Output.WriteLineAsync($"Run the {pipeline} pipeline through the Sparkflows-compatible API (paste into another terminal):");
            await context.Output.WriteLineAsync($"""
                  curl -sS -X POST '{address}/executePipeline?pipelineName={pipeline}&projectId={project.Id}' \
                    -H 'token: {token}' -H 'Content-Type: application/json' \
                    -d '{"{"}"workflowParameters": "--var run.date = {date}"{"}"}'
                """);
            await context.Output.WriteLineAsync("Then poll the statusUrl it returns until the run's status is succeeded:");
            await context.Output.WriteLineAsync($"  curl -sS -H 'token: {token}' '{address}/api/v1/projects/{project.Id}/runs?pipeline={pipeline}&limit=1'");
            await context.Output.WriteLineAsync("");
        }, ct);
    }
}
