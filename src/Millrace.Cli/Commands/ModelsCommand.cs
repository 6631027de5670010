using System.CommandLine;
using System.Globalization;
using Millrace.Cli.Output;
using Millrace.Learning;
using Millrace.Storage;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace models list | show &lt;name&gt; [version] | promote &lt;name&gt; &lt;version&gt; | rollback &lt;name&gt;</c>.</summary>
public static class ModelsCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("models", "The model registry: versions, metrics, aliases (champion, challenger) and their history; promote and roll back.");
        command.Subcommands.Add(List(context));
        command.Subcommands.Add(Show(context));
        command.Subcommands.Add(Promote(context));
        command.Subcommands.Add(Rollback(context));
        command.Subcommands.Add(ModelsPerformanceCommand.Create(context));
        return command;
    }

    static Command List(CliContext context)
    {
        var list = new Command("list", "Every model with its latest version and aliases.");
        list.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.LoadProject(parse);
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            var console = Terminal.For(context);
            var names = await store.ListModelsAsync(ct);
            if (names.Count == 0) { console.MarkupLine("no models registered yet: a train step registers one"); return CliApp.Success; }
            var table = new Table().AddColumns("model", "versions", "latest", "aliases", "task", "algorithm", "latest metrics");
            foreach (var name in names)
            {
                var versions = await store.ListModelVersionsAsync(name, ct);
                var aliases = await store.GetAliasesAsync(name, ct);
                var latest = versions[0];
                table.AddRow(Markup.Escape(name), versions.Count.ToString(CultureInfo.InvariantCulture), $"v{latest.Version}",
                    Markup.Escape(string.Join(", ", aliases.Select(a => $"{a.Key}=v{a.Value}"))), latest.Task.ToString().ToLowerInvariant(), latest.Algorithm,
                    Markup.Escape(Metrics(latest)));
            }
            console.Write(table);
            return CliApp.Success;
        }));
        return list;
    }

    static Command Show(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "The model." };
        var version = new Argument<int?>("version") { Description = "One version in detail (features, importance, options).", Arity = ArgumentArity.ZeroOrOne };
        var show = new Command("show", "A model's versions with metrics and aliases, and the history of alias changes; or one version in detail.");
        show.Arguments.Add(name);
        show.Arguments.Add(version);
        show.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.LoadProject(parse);
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            var console = Terminal.For(context);
            var model = parse.GetValue(name)!;
            var versions = await store.ListModelVersionsAsync(model, ct);
            if (versions.Count == 0) throw new CliException($"no model '{model}' (see 'millrace models list')");
            var aliases = await store.GetAliasesAsync(model, ct);
            if (parse.GetValue(version) is { } number)
            {
                var v = versions.FirstOrDefault(x => x.Version == number) ?? throw new CliException($"model '{model}' has no version v{number}");
                console.MarkupLine(Markup.Escape($"{model} v{v.Version}: {v.Task.ToString().ToLowerInvariant()} on '{v.Label}', {v.Algorithm}, trained by run {v.RunId} ({v.Workflow}.{v.StepId}) at {v.CreatedAt:yyyy-MM-dd HH:mm:ss}Z"));
                console.MarkupLine(Markup.Escape($"aliases: {string.Join(", ", aliases.Where(a => a.Value == v.Version).Select(a => a.Key).DefaultIfEmpty("none"))}; file {v.Path}; {v.TrainRows:N0} training rows, {v.HoldoutRows:N0} holdout rows"));
                console.MarkupLine(Markup.Escape($"metrics: {Metrics(v)}"));
                console.MarkupLine(Markup.Escape($"options: {string.Join(", ", v.Options.Select(o => $"{o.Key}={o.Value}"))}"));
                console.MarkupLine(Markup.Escape($"trained on: {string.Join(", ", v.Datasets.DefaultIfEmpty("(step outputs only)"))}; definitions {v.DefinitionsHash[..12]}"));
                var features = new Table().AddColumns("feature", "type", "role", "encoding", "importance");
                foreach (var f in v.Features)
                    features.AddRow(Markup.Escape(f.Name), f.Type, f.Role, f.Encoding,
                        v.Importance.FirstOrDefault(i => i.Key == f.Name) is { Key: not null } imp ? imp.Value.ToString("0.000", CultureInfo.InvariantCulture) : "");
                console.Write(features);
                return CliApp.Success;
            }
            var table = new Table().AddColumns("version", "aliases", "created (UTC)", "algorithm", "rows", "metrics", "run");
            foreach (var v in versions)
                table.AddRow($"v{v.Version}", Markup.Escape(string.Join(", ", aliases.Where(a => a.Value == v.Version).Select(a => a.Key))), $"{v.CreatedAt:yyyy-MM-dd HH:mm:ss}",
                    v.Algorithm, Terminal.Rows(v.TrainRows + v.HoldoutRows), Markup.Escape(Metrics(v)), v.RunId);
            console.Write(table);
            var history = await store.GetAliasHistoryAsync(model, ct);
            if (history.Count > 0)
            {
                console.MarkupLine("alias history (newest first):");
                foreach (var h in history)
                    console.MarkupLine(Markup.Escape($"  {h.At:yyyy-MM-dd HH:mm:ss} {h.Alias}: {(h.PreviousVersion is null ? "-" : "v" + h.PreviousVersion)} -> {(h.Version is null ? "-" : "v" + h.Version)} by {h.Actor}: {h.Reason}"));
            }
            return CliApp.Success;
        }));
        return show;
    }

    static Command Promote(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "The model." };
        var version = new Argument<int>("version") { Description = "The version to promote." };
        var alias = new Option<string>("--alias") { Description = "The alias to point at it (default champion).", DefaultValueFactory = _ => ModelRegistry.Champion };
        var reason = new Option<string?>("--reason") { Description = "Why, for the record." };
        var promote = new Command("promote", "Point an alias (champion by default) at a version, by hand; recorded in the alias history.");
        promote.Arguments.Add(name);
        promote.Arguments.Add(version);
        promote.Options.Add(alias);
        promote.Options.Add(reason);
        promote.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.LoadProject(parse);
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            var registry = new ModelRegistry(store, context.OpenLake(project));
            var model = parse.GetValue(name)!;
            var target = parse.GetValue(version);
            try
            {
                var previous = await registry.PromoteAsync(model, target, parse.GetValue(alias)!, Actor(), parse.GetValue(reason) ?? "promoted by hand", ct);
                Terminal.For(context).MarkupLine(Markup.Escape($"{model}@{parse.GetValue(alias)}: {(previous is null ? "-" : "v" + previous)} -> v{target}"));
                return CliApp.Success;
            }
            catch (InvalidOperationException e)
            {
                throw new CliException(e.Message);
            }
        }));
        return promote;
    }

    static Command Rollback(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "The model." };
        var rollback = new Command("rollback", "Point champion back at the previous champion (undo the last champion change); recorded in the alias history.");
        rollback.Arguments.Add(name);
        rollback.SetAction(context.Guard(async (parse, ct) =>
        {
            var project = context.LoadProject(parse);
            await using var store = await CliContext.OpenStoreAsync(project, ct);
            var registry = new ModelRegistry(store, context.OpenLake(project));
            try
            {
                var (from, to) = await registry.RollbackAsync(parse.GetValue(name)!, Actor(), ct);
                Terminal.For(context).MarkupLine(Markup.Escape($"{parse.GetValue(name)}@champion: v{from} -> v{to} (rolled back)"));
                return CliApp.Success;
            }
            catch (InvalidOperationException e)
            {
                throw new CliException(e.Message);
            }
        }));
        return rollback;
    }

    static string Actor() => $"cli:{Environment.UserName}";

    static string Metrics(ModelVersion v) =>
        string.Join(", ", ModelBuilder.MetricNames(v.Task).Where(v.Metrics.ContainsKey).Select(m => $"{m} {v.Metrics[m].ToString("0.0000", CultureInfo.InvariantCulture)}"));
}
