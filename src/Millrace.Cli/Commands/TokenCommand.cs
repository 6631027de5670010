using System.CommandLine;
using System.Text.Json;
using Millrace.Cli.Output;
using Millrace.Definitions;
using Millrace.Server.Security;
using Millrace.Server.Storage;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace token create|list|revoke</c>: API tokens of a project. A token is printed once at creation; the store
/// keeps only a salted hash. Creating and revoking are recorded in the project's audit log.
/// </summary>
public static class TokenCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("token", "Manage API tokens of a project (--project is the project folder, or its id when run inside it).");
        command.Subcommands.Add(CreateCreate(context));
        command.Subcommands.Add(CreateList(context));
        command.Subcommands.Add(CreateRevoke(context));
        return command;
    }

    static Command CreateCreate(CliContext context)
    {
        var role = new Option<string>("--role") { Description = "viewer (read), runner (read and run), admin (also pause schedules, reload, audit). Default runner.", DefaultValueFactory = _ => "runner" };
        var expires = new Option<string?>("--expires") { Description = "Lifetime such as 90d or 12h (default: no expiry)." };
        var name = new Option<string?>("--name") { Description = "A label to recognise the token by in 'token list' and the audit log." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the token (for scripts)." };
        var create = new Command("create", "Create a token and print it once.");
        foreach (var option in new Option[] { role, expires, name, quiet }) create.Options.Add(option);
        create.SetAction(context.Guard(async (parse, ct) =>
        {
            if (!ApiTokens.TryParseRole(parse.GetValue(role)!, out var tokenRole))
                throw new CliException($"--role must be viewer, runner or admin, got '{parse.GetValue(role)}'", CliApp.UsageError);
            TimeSpan? lifetime = parse.GetValue(expires) is { } text ? CliContext.Duration("--expires", text, Durations.TokenLifetime) : null;
            var project = ResolveProject(context, parse);
            await using var metadata = await CliContext.OpenStoreAsync(project, ct);
            var store = await ServerStore.OpenAsync(metadata.Database, ct);
            var (token, secret) = ApiTokens.Create(project.Id, tokenRole, parse.GetValue(name), lifetime, context.Clock.GetUtcNow());
            await store.CreateTokenAsync(token, ct);
            await AuditAsync(store, context.Clock, project.Id, "token.create", token.Id, new { role = Lower(tokenRole), token.Name, token.ExpiresAt }, ct);
            if (parse.GetValue(quiet))
            {
                await context.Output.WriteLineAsync(secret);
                return CliApp.Success;
            }
            await context.Output.WriteLineAsync($"token {token.Id} for project '{project.Id}', role {Lower(tokenRole)}, {(token.ExpiresAt is { } e ? $"expires {e:yyyy-MM-dd HH:mm}Z" : "no expiry")}:");
            await context.Output.WriteLineAsync(secret);
            await context.Output.WriteLineAsync("Store it now: it is shown only this once. Send it as the header 'token: <TOKEN>' or 'Authorization: Bearer <TOKEN>'.");
            return CliApp.Success;
        }));
        return create;
    }

    static Command CreateList(CliContext context)
    {
        var list = new Command("list", "List the project's tokens by id (never their secrets).");
        list.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = ResolveProject(context, parse);
            await using var metadata = await CliContext.OpenStoreAsync(project, ct);
            var store = await ServerStore.OpenAsync(metadata.Database, ct);
            var tokens = await store.ListTokensAsync(ct);
            var now = context.Clock.GetUtcNow();
            var table = new Table().AddColumns("id", "role", "name", "created", "expires", "last used", "state");
            foreach (var token in tokens)
                table.AddRow(token.Id, Lower(token.Role), Markup.Escape(token.Name ?? ""), $"{token.CreatedAt:yyyy-MM-dd HH:mm}",
                    token.ExpiresAt is { } e ? $"{e:yyyy-MM-dd HH:mm}" : "never", token.LastUsedAt is { } u ? $"{u:yyyy-MM-dd HH:mm}" : "",
                    token.RevokedAt is not null ? "[red]revoked[/]" : token.ExpiresAt <= now ? "[yellow]expired[/]" : "[green]active[/]");
            var console = Terminal.For(context);
            if (tokens.Count == 0) console.MarkupLine(Markup.Escape($"no tokens in project '{project.Id}'; create one with 'millrace token create --role runner'"));
            else console.Write(table);
            return CliApp.Success;
        }));
        return list;
    }

    static Command CreateRevoke(CliContext context)
    {
        var id = new Argument<string>("id") { Description = "The token id (see 'millrace token list')." };
        var revoke = new Command("revoke", "Revoke a token: calls with it get 401 from now on.");
        revoke.Arguments.Add(id);
        revoke.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = ResolveProject(context, parse);
            await using var metadata = await CliContext.OpenStoreAsync(project, ct);
            var store = await ServerStore.OpenAsync(metadata.Database, ct);
            var tokenId = parse.GetValue(id)!;
            // Accept a whole token too: its id is the part after mr_.
            if (ApiTokens.TryParse(tokenId, out var parsedId, out _)) tokenId = parsedId;
            var token = await store.GetTokenAsync(tokenId, ct) ?? throw new CliException($"no token '{tokenId}' in project '{project.Id}' (see 'millrace token list')");
            if (!await store.RevokeTokenAsync(token.Id, context.Clock.GetUtcNow(), ct))
                throw new CliException($"token {token.Id} was already revoked on {token.RevokedAt:yyyy-MM-dd HH:mm}Z");
            await AuditAsync(store, context.Clock, project.Id, "token.revoke", token.Id, null, ct);
            await context.Output.WriteLineAsync($"token {token.Id} revoked");
            return CliApp.Success;
        }));
        return revoke;
    }

    /// <summary>The project the token commands act on: --project as a folder, or as the id of the project found from here.</summary>
    static ProjectDefinition ResolveProject(CliContext context, ParseResult parse)
    {
        var given = parse.GetValue(CliContext.ProjectOption);
        if (given is not null && !File.Exists(Path.Combine(Path.GetFullPath(given), ProjectLoader.ProjectFileName)))
        {
            var here = ProjectLoader.FindProjectDirectory(Environment.CurrentDirectory);
            var project = here is null ? null : ProjectLoader.Load(here, []);
            if (project?.Id == given) return project;
            throw new CliException($"--project '{given}' is neither a project folder nor the id of the project here{(project is null ? "" : $" ('{project.Id}' in {here})")}; pass the project folder");
        }
        return context.LoadProject(parse);
    }

    static Task AuditAsync(IAuditStore store, TimeProvider clock, string projectId, string action, string target, object? details, CancellationToken ct) =>
        store.AddAuditAsync(new AuditEntry
        {
            At = clock.GetUtcNow(), ProjectId = projectId, Actor = $"cli:{Environment.UserName}", Action = action, Target = $"token {target}", Outcome = 0,
            DetailsJson = details is null ? null : JsonSerializer.Serialize(details, new JsonSerializerOptions(JsonSerializerDefaults.Web)),
        }, ct);

    static string Lower(TokenRole role) => role.ToString().ToLowerInvariant();
}
