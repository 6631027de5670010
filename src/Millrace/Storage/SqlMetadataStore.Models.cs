using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using static Millrace.Storage.Sql.SqlHelper;

namespace Millrace.Storage;

public abstract partial class SqlMetadataStore
{
    const string ModelColumns = "name, version, run_id, workflow, step_id, created_at, task, algorithm, label, path, metrics_json, options_json, " +
                                "features_json, datasets_json, importance_json, definitions_hash, train_rows, holdout_rows, profile_json, training_fingerprint";

    public async Task<ModelVersion?> GetModelVersionAsync(string name, int? version, string? alias, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        if (version is null && alias is not null)
        {
            await using var lookup = Command(connection, null, "SELECT version FROM model_aliases WHERE name = @n AND alias = @a", ("n", name), ("a", alias));
            if (await lookup.ExecuteScalarAsync(ct) is not { } found || found is DBNull) return null;
            version = Convert.ToInt32(found, CultureInfo.InvariantCulture);
        }
        var sql = version is null
            ? $"SELECT {ModelColumns} FROM model_versions WHERE name = @n ORDER BY version DESC LIMIT 1"
            : $"SELECT {ModelColumns} FROM model_versions WHERE name = @n AND version = @v";
        return (await QueryModelsAsync(connection, sql, ct, ("n", name), ("v", version))).SingleOrDefault();
    }

    public async Task<IReadOnlyList<ModelVersion>> ListModelVersionsAsync(string name, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return await QueryModelsAsync(connection, $"SELECT {ModelColumns} FROM model_versions WHERE name = @n ORDER BY version DESC", ct, ("n", name));
    }

    public async Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, "SELECT DISTINCT name FROM model_versions ORDER BY name");
        await using var reader = await command.ExecuteReaderAsync(ct);
        var names = new List<string>();
        while (await reader.ReadAsync(ct)) names.Add(reader.GetString(0));
        return names;
    }

    public async Task<IReadOnlyDictionary<string, int>> GetAliasesAsync(string name, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, "SELECT alias, version FROM model_aliases WHERE name = @n ORDER BY alias", ("n", name));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct)) result[reader.GetString(0)] = Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture);
        return result;
    }

    public async Task<IReadOnlyList<AliasHistoryEntry>> GetAliasHistoryAsync(string name, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, """
            SELECT alias, version, previous_version, at, run_id, actor, reason FROM model_alias_history
            WHERE name = @n ORDER BY at DESC, id DESC
            """, ("n", name));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<AliasHistoryEntry>();
        while (await reader.ReadAsync(ct))
            result.Add(new AliasHistoryEntry(name, reader.GetString(0), NullableInt(reader, 1), NullableInt(reader, 2), ParseTime(reader.GetString(3)),
                NullableString(reader, 4), reader.GetString(5), reader.GetString(6)));
        return result;
    }

    public async Task ChangeAliasesAsync(IReadOnlyList<AliasChange> changes, string? runId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var transaction = await BeginWriteAsync(connection, ct);
        await ApplyAliasChangesAsync(connection, transaction, changes, runId, Database.Clock.GetUtcNow(), ct);
        await transaction.CommitAsync(ct);
    }

    /// <summary>Part of a workflow commit: registers model versions and applies the gate's alias changes.</summary>
    async Task CommitModelsAsync(DbConnection connection, DbTransaction transaction, WorkflowCommit commit, DateTimeOffset now, CancellationToken ct)
    {
        foreach (var model in commit.Models)
        {
            try
            {
                await ExecuteAsync(connection, transaction, $"""
                    INSERT INTO model_versions ({ModelColumns})
                    VALUES (@n, @v, @run, @workflow, @step, @created, @task, @algorithm, @label, @path, @metrics, @options, @features, @datasets, @importance, @hash, @train, @holdout, @profile, @fingerprint)
                    """, ct, ("n", model.Name), ("v", model.Version), ("run", model.RunId), ("workflow", model.Workflow), ("step", model.StepId),
                    ("created", Time(now)), ("task", model.Task.ToString()), ("algorithm", model.Algorithm), ("label", model.Label), ("path", model.Path),
                    ("metrics", JsonSerializer.Serialize(model.Metrics, Json)), ("options", JsonSerializer.Serialize(model.Options, Json)),
                    ("features", JsonSerializer.Serialize(model.Features, Json)), ("datasets", JsonSerializer.Serialize(model.Datasets, Json)),
                    ("importance", JsonSerializer.Serialize(model.Importance.Select(p => new object[] { p.Key, p.Value }), Json)),
                    ("hash", model.DefinitionsHash), ("train", model.TrainRows), ("holdout", model.HoldoutRows),
                    ("profile", JsonSerializer.Serialize(model.Profile, Json)), ("fingerprint", model.TrainingFingerprint));
            }
            catch (DbException e) when (IsUniqueViolation(e))
            {
                throw new CommitConflictException($"model '{model.Name}' v{model.Version} was registered by another run first; nothing was committed, rerun the workflow.");
            }
        }
        await ApplyAliasChangesAsync(connection, transaction, commit.AliasChanges, commit.RunId, now, ct);
    }

    /// <summary>
    /// Applies and records <paramref name="changes"/> in order. History ids sort by time, then by position in the
    /// batch, so changes made together still list newest first (in reverse order of application).
    /// </summary>
    async Task ApplyAliasChangesAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<AliasChange> changes, string? runId, DateTimeOffset now, CancellationToken ct)
    {
        for (var index = 0; index < changes.Count; index++)
        {
            var change = changes[index];
            int? current;
            await using (var lookup = Command(connection, transaction, "SELECT version FROM model_aliases WHERE name = @n AND alias = @a", ("n", change.Model), ("a", change.Alias)))
                current = await lookup.ExecuteScalarAsync(ct) is { } v and not DBNull ? Convert.ToInt32(v, CultureInfo.InvariantCulture) : null;
            if (current != change.Expected)
                throw new CommitConflictException(
                    $"alias '{change.Model}@{change.Alias}' moved to v{current?.ToString(CultureInfo.InvariantCulture) ?? "(none)"} while the decision was based on v{change.Expected?.ToString(CultureInfo.InvariantCulture) ?? "(none)"}; nothing was changed");
            if (current == change.Version) continue;
            if (change.Version is null)
                await ExecuteAsync(connection, transaction, "DELETE FROM model_aliases WHERE name = @n AND alias = @a", ct, ("n", change.Model), ("a", change.Alias));
            else
                await ExecuteAsync(connection, transaction, """
                    INSERT INTO model_aliases (name, alias, version, updated_at) VALUES (@n, @a, @v, @at)
                    ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at
                    """, ct, ("n", change.Model), ("a", change.Alias), ("v", change.Version), ("at", Time(now)));
            await ExecuteAsync(connection, transaction, """
                INSERT INTO model_alias_history (id, name, alias, version, previous_version, at, run_id, actor, reason)
                VALUES (@id, @n, @a, @v, @previous, @at, @run, @actor, @reason)
                """, ct, ("id", $"{now.UtcTicks:D20}-{index:D5}-{Guid.NewGuid():N}"), ("n", change.Model), ("a", change.Alias), ("v", change.Version), ("previous", current),
                ("at", Time(now)), ("run", runId), ("actor", change.Actor), ("reason", change.Reason));
        }
    }

    async Task<IReadOnlyList<ModelVersion>> QueryModelsAsync(DbConnection connection, string sql, CancellationToken ct, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, null, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var result = new List<ModelVersion>();
        while (await reader.ReadAsync(ct))
            result.Add(new ModelVersion
            {
                Name = reader.GetString(0),
                Version = Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture),
                RunId = reader.GetString(2),
                Workflow = reader.GetString(3),
                StepId = reader.GetString(4),
                CreatedAt = ParseTime(reader.GetString(5)),
                Task = Enum.Parse<ModelTask>(reader.GetString(6)),
                Algorithm = reader.GetString(7),
                Label = reader.GetString(8),
                Path = reader.GetString(9),
                Metrics = JsonSerializer.Deserialize<Dictionary<string, double>>(reader.GetString(10), Json)!,
                Options = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(11), Json)!,
                Features = JsonSerializer.Deserialize<List<FeatureColumn>>(reader.GetString(12), Json)!,
                Datasets = JsonSerializer.Deserialize<List<string>>(reader.GetString(13), Json)!,
                Importance = JsonSerializer.Deserialize<List<JsonElement[]>>(reader.GetString(14), Json)!
                    .Select(p => new KeyValuePair<string, double>(p[0].GetString()!, p[1].GetDouble())).ToList(),
                DefinitionsHash = reader.GetString(15),
                TrainRows = Convert.ToInt64(reader.GetValue(16), CultureInfo.InvariantCulture),
                HoldoutRows = Convert.ToInt64(reader.GetValue(17), CultureInfo.InvariantCulture),
                Profile = reader.IsDBNull(18) ? [] : JsonSerializer.Deserialize<List<Quality.FeatureProfile>>(reader.GetString(18), Json)!,
                TrainingFingerprint = NullableString(reader, 19),
            });
        return result;
    }

    static int? NullableInt(DbDataReader reader, int i) => reader.IsDBNull(i) ? null : Convert.ToInt32(reader.GetValue(i), CultureInfo.InvariantCulture);
}
