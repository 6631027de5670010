using Millrace.Datasets;
using Millrace.Definitions;
using Millrace.Definitions.Options;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Lake;
using Millrace.Parameters;
using Millrace.Storage;

using YamlDotNet.RepresentationModel;

namespace Millrace.Steps;

/// <summary>
/// <c>write</c>: writes its input to a versioned dataset (<c>dataset:</c>) or to files under a lake path
/// (<c>path:</c>). Dataset files get run-unique names and become part of a version only when the run commits;
/// lake files are staged and moved to their path by the commit. Either way, a run that fails leaves nothing visible.
/// </summary>
public sealed class WriteStep : IStep, IDatasetProducer
{
    public string? DatasetName { get; init; }
    public string? Path { get; init; }
    public required string Format { get; init; }
    public required string Mode { get; init; }
    public IReadOnlyList<string> PartitionBy { get; init; } = [];
    public bool EvolveSchema { get; init; }

    public string Dataset => DatasetName ?? "";

    public static StepKind Kind { get; } = StepKind.Create<WriteOptions>(
        "write",
        "Write the input to a versioned dataset, or to Parquet/CSV files under a lake path.",
        Parse);

    static IStep? Parse(StepDefinition definition, YamlNodeReader reader, WriteOptions options)
    {
        var map = definition.Options;
        if (definition.Inputs.Count != 1) reader.Error(map, $"a write step needs exactly one input, has {definition.Inputs.Count}");
        var (dataset, path) = (options.Dataset, options.Path);
        if ((dataset is null) == (path is null)) reader.Error(map, "a write step needs either 'dataset' or 'path' (not both)");
        if (dataset is not null && !ProjectLoader.IsIdentifier(dataset))
            reader.Error(YamlNodeReader.Find(map, "dataset")!, $"dataset name '{dataset}' may use letters, digits and '_' only");
        // With parameters, the fixed folders before the first one are checked now (../${x} is refused at validate time).
        if ((path is not null && !path.Contains('$', StringComparison.Ordinal) ? path : path is null ? null : LakePath.FixedPrefix(path)) is { } fixedPart)
        {
            try { LakePath.Fold(fixedPart, path); LakePath.RefuseEncoded(fixedPart, path); }
            catch (LakePathException e) { reader.Error(YamlNodeReader.Find(map, "path")!, e.Message); }
        }
        if (path is not null && options.Mode != WriteMode.Overwrite) reader.Error(YamlNodeReader.Find(map, "mode")!, "files under a path are always written in overwrite mode");
        if (options.Mode == WriteMode.ReplacePartitions && options.PartitionBy.Count == 0) reader.Error(YamlNodeReader.Find(map, "mode")!, "mode replace_partitions needs partition_by");
        var format = options.Format ?? (path is not null && path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? WriteFormat.Csv : WriteFormat.Parquet);
        if (dataset is not null && format != WriteFormat.Parquet) reader.Error(YamlNodeReader.Find(map, "format")!, "datasets are always stored as Parquet");
        return new WriteStep
        {
            DatasetName = dataset, Path = path, Format = OptionsShape.ChoiceName(format), Mode = OptionsShape.ChoiceName(options.Mode),
            PartitionBy = options.PartitionBy, EvolveSchema = options.OnSchemaChange == SchemaChangePolicy.Evolve,
        };
    }

    public ValueTask<StepResult> ExecuteAsync(StepContext context, CancellationToken ct) =>
        DatasetName is not null ? WriteDatasetAsync(context, DatasetName, ct) : WriteFilesAsync(context, ct);

    async ValueTask<StepResult> WriteFilesAsync(StepContext context, CancellationToken ct)
    {
        var expanded = context.Expand(Path!);
        var isFolder = expanded.TrimEnd().EndsWith('/') || expanded.TrimEnd().EndsWith('\\') || string.IsNullOrEmpty(System.IO.Path.GetExtension(expanded.Trim()));
        // Refuse paths that leave the lake, or land in the landing zone or Millrace's own folders, before writing
        // anything; what is written is the folded path those checks judged (exports/../raw/x is raw/x, and refused).
        LakePath.RefuseEncoded(expanded);
        context.Lake.ResolveWritable(expanded, context.Project.Landing, asFolder: isFolder);
        var target = LakePath.Fold(expanded);
        var stagingFolder = StagingFolder(context);
        var staged = await CopyAsync(context, stagingFolder, isFolder ? $"part-0.{Format}" : System.IO.Path.GetFileName(target), ct);
        context.Faults.Hit($"{context.Workflow}.{context.Step.Id}.mid-write");
        var finalFolder = isFolder ? target : System.IO.Path.GetDirectoryName(target)?.Replace('\\', '/') ?? "";
        var outputs = new List<string>();
        foreach (var file in staged)
        {
            var relative = System.IO.Path.GetRelativePath(stagingFolder, file).Replace('\\', '/');
            var final = finalFolder.Length == 0 ? relative : $"{finalFolder}/{relative}";
            context.Lake.ResolveWritable(final, context.Project.Landing);
            context.Commit.AddStagedFile(new StagedFile(context.Lake.ToRelative(file), final));
            outputs.Add(final);
        }
        var rows = await DuckDb.CountAsync(context.Connection, context.SingleInput, ct);
        await PassThroughAsync(context, ct);
        return new StepResult(rows, new Dictionary<string, object?> { ["files"] = outputs });
    }

    async ValueTask<StepResult> WriteDatasetAsync(StepContext context, string name, CancellationToken ct)
    {
        var input = context.SingleInput;
        var schema = DuckDb.Describe(context.Connection, input);
        foreach (var column in PartitionBy)
            if (!schema.Any(c => c.Name == column)) throw new StepFailedException($"partition_by column '{column}' is not in the input (columns: {string.Join(", ", schema.Select(c => c.Name))})");
        var current = await DatasetFiles.BaseVersionAsync(context, name, ct);
        var baseVersion = current?.Version;
        var rows = await DuckDb.CountAsync(context.Connection, input, ct);
        const string remedy = "write with mode: overwrite to replace it, or set on_schema_change: evolve";
        // An empty version has no rows to disagree with: the next write may give the dataset its real schema. An empty
        // input adds nothing, so it keeps the dataset's schema (a header-only CSV read without a schema is all VARCHAR).
        if (current is { Rows: > 0 } && Mode != "overwrite")
        {
            var target = rows == 0 ? current.Schema : await DatasetFiles.ReconcileSchemaAsync(context, name, current.Schema, schema, EvolveSchema, remedy, ct);
            if (rows > 0 && (!ReferenceEquals(target, current.Schema) || target.Count != schema.Count))
            {
                var conformed = SqlText.Identifier($"__conformed_{context.Step.Id}");
                await DuckDb.ExecuteAsync(context.Connection, $"CREATE VIEW {conformed} AS SELECT {DatasetFiles.Conform(target, schema)} FROM {input}", ct);
                input = conformed;
            }
            schema = target;
        }
        var written = rows == 0 ? [] : await DatasetFiles.WriteAsync(context, name, input, PartitionBy, [], ct);
        var newFiles = written.Select(w => w.File).ToList();

        IReadOnlyList<string> files;
        long totalRows;
        var uniform = true;
        switch (Mode)
        {
            case "append" when current is not null:
                files = [.. current.Files, .. newFiles];
                totalRows = current.Rows + rows;
                uniform = current.StaysUniform(current.Files, schema);
                break;
            case "replace_partitions" when current is not null:
                var touched = written.Select(w => w.Folder).ToHashSet(StringComparer.Ordinal);
                var byTouch = current.Files.ToLookup(f => touched.Contains(DatasetFiles.FolderOf(f)));
                var kept = byTouch[false].ToList();
                files = [.. kept, .. newFiles];
                uniform = current.StaysUniform(kept, schema);
                // Count the replaced files, not the kept ones: a daily partition replaces one file, whatever the history.
                totalRows = current.Rows - await DatasetFiles.CountAsync(context, byTouch[true].ToList(), ct) + rows;
                break;
            default:
                files = newFiles;
                totalRows = rows;
                break;
        }

        var version = new DatasetVersion
        {
            Dataset = name,
            Version = (baseVersion ?? 0) + 1,
            RunId = context.RunId,
            Workflow = context.Workflow,
            StepId = context.Step.Id,
            CreatedAt = context.Clock.GetUtcNow(),
            Rows = totalRows,
            Files = files,
            Schema = schema,
            Operation = Mode,
            UniformSchema = uniform,
        };
        // The store checks at commit that the dataset is still at baseVersion (optimistic concurrency).
        context.Commit.AddDatasetVersion(version, baseVersion);
        await PassThroughAsync(context, ct);
        await context.LogAsync($"dataset '{name}' v{version.Version} ({Mode}): {rows} rows written, {totalRows} rows in {files.Count} file(s); visible when the run commits", ct);
        return new StepResult(rows, new Dictionary<string, object?>
        {
            ["dataset"] = name, ["version"] = version.Version, ["mode"] = Mode, ["files_written"] = newFiles.Count, ["rows_total"] = totalRows,
        });
    }

    // A later step may depend on the write (to run after it); it sees the rows written.
    static Task PassThroughAsync(StepContext context, CancellationToken ct) =>
        DuckDb.ExecuteAsync(context.Connection, $"CREATE VIEW {context.OutputTable} AS SELECT * FROM {context.SingleInput}", ct);

    string StagingFolder(StepContext context) =>
        System.IO.Path.Combine(context.Lake.StagingRoot, context.RunId, context.Workflow, context.Step.Id);

    /// <summary>COPYs the input into <paramref name="folder"/> (hive folders when partitioned) and returns the files written.</summary>
    async Task<IReadOnlyList<string>> CopyAsync(StepContext context, string folder, string fileName, CancellationToken ct)
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        var options = Format == "csv" ? "FORMAT csv, HEADER true" : "FORMAT parquet, COMPRESSION zstd";
        string target;
        if (PartitionBy.Count > 0)
        {
            options += $", PARTITION_BY ({string.Join(", ", PartitionBy.Select(SqlText.Identifier))}), WRITE_PARTITION_COLUMNS true, FILENAME_PATTERN 'part_{{i}}'";
            target = folder;
        }
        else target = System.IO.Path.Combine(folder, fileName);
        await DuckDb.ExecuteAsync(context.Connection, $"COPY (SELECT * FROM {context.SingleInput}) TO {SqlText.Quote(target)} ({options})", ct);
        return Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
    }
}
