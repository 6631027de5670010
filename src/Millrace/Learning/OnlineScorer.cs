using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;
using Millrace.Internal;
using Millrace.Lake;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Learning;

/// <summary>How many models an <see cref="OnlineScorer"/> keeps loaded.</summary>
public sealed record OnlineScorerOptions
{
    /// <summary>Most model versions held in memory at once (least recently used goes first).</summary>
    public int MaxModels { get; init; } = 8;

    /// <summary>Most bytes of model files held in memory at once; the model in use is kept even when it alone is larger.</summary>
    public long MaxBytes { get; init; } = 512L << 20;
}

/// <summary>
/// One row's online prediction: <paramref name="PredictedLabel"/> is a bool (binary), a string (multiclass) or null
/// (regression); <paramref name="Reasons"/>, when explanations were asked for, the top input columns by absolute
/// contribution (<see cref="FeatureContributions"/>).
/// </summary>
public sealed record OnlinePrediction(double Score, double? Probability, object? PredictedLabel, IReadOnlyList<Reason>? Reasons = null);

/// <summary>What scoring some rows gave: the version used, one prediction per row in order, and the fields that are not features.</summary>
public sealed record OnlineScores(ModelVersion Model, IReadOnlyList<OnlinePrediction> Predictions, IReadOnlyList<string> IgnoredFields);

/// <summary>Rows that do not fit the model: a value that does not convert to its feature's type. The message says which.</summary>
public sealed class RowsDoNotFitException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Online scoring for one project: JSON rows scored with the version a model reference points at now. Each call
/// resolves the reference in the store, so a promotion serves the next call without a restart. Loaded models are held
/// in a bounded cache (count and bytes, least recently used out); when an alias moves to another version, the version
/// it left is dropped unless another alias still points at it. The rows go to DuckDB as a query parameter (no file),
/// are converted to the feature types the model was trained on, and are scored by <see cref="ModelScorer"/>, the path
/// the predict step takes. Thread-safe; owned by the project's host, which disposes it.
/// </summary>
public sealed partial class OnlineScorer : IDisposable
{
    readonly IModelRegistryStore _store;
    readonly Func<LakeRoot> _openLake;
    readonly LoadedModelCache _cache;
    readonly Lock _gate = new();
    readonly Dictionary<(string Model, string Alias), int> _aliases = [];
    readonly Lazy<DuckDBConnection> _database;
    long _requests;

    /// <param name="store">The project's store, where references are resolved.</param>
    /// <param name="openLake">Opens the project's lake, where model files are read (called once per load).</param>
    /// <param name="options">The cache's bounds (defaults when null).</param>
    public OnlineScorer(IModelRegistryStore store, Func<LakeRoot> openLake, OnlineScorerOptions? options = null)
    {
        options ??= new OnlineScorerOptions();
        _store = store;
        _openLake = openLake;
        _cache = new LoadedModelCache(Math.Max(1, options.MaxModels), Math.Max(0, options.MaxBytes));
        _database = new Lazy<DuckDBConnection>(OpenDatabase, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Model versions held in memory now (loaded or loading).</summary>
    public int CachedModels => _cache.Count;

    /// <summary>True when <paramref name="name"/> v<paramref name="version"/> is held in memory now.</summary>
    public bool IsCached(string name, int version) => _cache.Contains(name, version);

    /// <summary>
    /// Scores <paramref name="rows"/> (a JSON array of objects, field name = feature name; a missing feature is NULL)
    /// with the version <paramref name="reference"/> points at now. Null when the model or version does not exist;
    /// <see cref="RowsDoNotFitException"/> when a value does not convert to its feature's type.
    /// </summary>
    public Task<OnlineScores?> ScoreAsync(ModelReference reference, JsonElement rows, CancellationToken ct) => ScoreAsync(reference, rows, 0, ct);

    /// <summary>
    /// As <see cref="ScoreAsync(ModelReference, JsonElement, CancellationToken)"/>, each prediction with its top
    /// <paramref name="explain"/> reasons (0: none; at most <see cref="FeatureContributions.MaxReasons"/>);
    /// <see cref="ModelCannotExplainException"/> when the model cannot explain.
    /// </summary>
    public async Task<OnlineScores?> ScoreAsync(ModelReference reference, JsonElement rows, int explain, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(explain);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(explain, FeatureContributions.MaxReasons);
        if (rows.ValueKind != JsonValueKind.Array || rows.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.Object))
            throw new ArgumentException("rows must be a JSON array of objects", nameof(rows));
        var model = await _store.GetModelVersionAsync(reference.Name, reference.Version, reference.Version is null ? reference.Alias : null, ct);
        if (model is null) return null;
        if (reference.Version is null && reference.Alias is { } alias) Follow(model.Name, alias, model.Version);
        var loaded = await _cache.GetAsync(model.Name, model.Version, token => LoadAsync(model, token), ct);
        var features = model.Features.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var ignored = rows.EnumerateArray().SelectMany(r => r.EnumerateObject().Select(p => p.Name)).Distinct(StringComparer.Ordinal).Where(n => !features.Contains(n)).ToList();
        return new OnlineScores(model, Score(loaded, model, rows, explain), ignored);
    }

    /// <summary>Records where an alias points now; the version it left is dropped unless another alias still points at it.</summary>
    void Follow(string model, string alias, int version)
    {
        int previous;
        lock (_gate)
        {
            if (!_aliases.TryGetValue((model, alias), out previous) || previous == version)
            {
                _aliases[(model, alias)] = version;
                return;
            }
            _aliases[(model, alias)] = version;
            if (_aliases.Any(a => a.Key.Model == model && a.Value == previous)) return;
        }
        _cache.Remove(model, previous);
    }

    async Task<LoadedModel> LoadAsync(ModelVersion model, CancellationToken ct)
    {
        var path = await ModelRegistry.FetchAsync(_openLake(), model, ct);
        var ml = new Microsoft.ML.MLContext(seed: 0);
        var transformer = ModelRegistry.LoadFile(ml, model, path);
        return new LoadedModel(ml, transformer, new FileInfo(path).Length);
    }

    /// <summary>
    /// One in-memory DuckDB database for every call: each call works on its own connection to it and its own tables
    /// (opening a database per call costs more than the scoring of a few rows).
    /// </summary>
    static DuckDBConnection OpenDatabase()
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        DuckDb.Execute(connection, "SET autoinstall_known_extensions = false; SET preserve_insertion_order = true;");
        return connection;
    }

    List<OnlinePrediction> Score(LoadedModel loaded, ModelVersion model, JsonElement rows, int explain)
    {
        var call = Interlocked.Increment(ref _requests).ToString(CultureInfo.InvariantCulture);
        var input = $"online_input_{call}";
        var predictions = $"online_predictions_{call}";
        using var connection = _database.Value.Duplicate();
        connection.Open();
        try
        {
            CreateInput(connection, model, rows.GetRawText(), input);
            ModelScorer.Score(loaded.Ml, loaded.Transformer, model, connection, SqlText.Identifier(input), predictions, parallelism: 1, explain: explain);
            var result = new List<OnlinePrediction>(rows.GetArrayLength());
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT score, probability, predicted_label{string.Concat(FeatureContributions.Columns(explain).Select(c => ", " + c.Name))} FROM {SqlText.Identifier(predictions)} ORDER BY {ModelScorer.RowColumn}";
            using var reader = command.ExecuteReader();
            while (reader.Read())
                result.Add(new OnlinePrediction(reader.GetDouble(0), reader.IsDBNull(1) ? null : reader.GetDouble(1), reader.IsDBNull(2) ? null : reader.GetValue(2), explain == 0 ? null : Reasons(reader, explain)));
            return result;
        }
        finally
        {
            DuckDb.Execute(connection, $"DROP TABLE IF EXISTS {SqlText.Identifier(input)}; DROP TABLE IF EXISTS {SqlText.Identifier(predictions)};");
        }
    }

    /// <summary>The reasons of the reader's row: the pairs of columns after the first three, up to the first NULL.</summary>
    static List<Reason> Reasons(System.Data.Common.DbDataReader reader, int explain)
    {
        var reasons = new List<Reason>(explain);
        for (var i = 0; i < explain && !reader.IsDBNull(3 + 2 * i); i++) reasons.Add(new Reason(reader.GetString(3 + 2 * i), reader.GetDouble(4 + 2 * i)));
        return reasons;
    }

    /// <summary>Drops every loaded model and closes the database.</summary>
    public void Dispose()
    {
        _cache.Dispose();
        if (_database.IsValueCreated) _database.Value.Dispose();
    }
}
