using System.Globalization;
using Millrace.Engine;
using Millrace.Internal;
using Millrace.Lake;
using Millrace.Parameters;
using Millrace.Storage;

namespace Millrace.Reports;

/// <summary>
/// The files of one run of a report, written to the step's staging folder and published by the workflow's commit to
/// <c>reports/&lt;name&gt;/&lt;run.date&gt;/</c>. Until the commit nothing is visible; a failed run publishes nothing.
/// </summary>
internal sealed class ReportOutput
{
    readonly StepContext _context;

    public ReportOutput(StepContext context, string name, DateOnly runDate)
    {
        _context = context;
        Name = name;
        RunDate = runDate;
        Folder = $"reports/{name}/{runDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}";
        context.Lake.Resolve(Folder);
        LakeRoot.CheckWritable(Folder, context.Project.Landing);
        Staging = Path.Combine(context.Lake.StagingRoot, context.RunId, context.Workflow, context.Step.Id);
        if (Directory.Exists(Staging)) Directory.Delete(Staging, recursive: true);
        Directory.CreateDirectory(Staging);
    }

    public string Name { get; }
    public DateOnly RunDate { get; }
    /// <summary>Lake-relative folder the files are published to.</summary>
    public string Folder { get; }
    /// <summary>Absolute staging folder of this step.</summary>
    public string Staging { get; }

    /// <summary>
    /// The absolute folder of every run of this report (<c>reports/&lt;name&gt;</c>), for the KPI history. On an S3
    /// lake the published runs' <c>kpis.json</c> files are brought into the cache first (they change when a date is rerun).
    /// </summary>
    public async Task<string> HistoryFolderAsync(CancellationToken ct)
    {
        var folder = $"reports/{Name}";
        if (_context.Lake.Storage.IsRemote)
        {
            var snapshots = (await _context.Lake.Storage.ListAsync(folder + "/", ct)).Where(f => Path.GetFileName(f.Path) == KpiHistory.FileName).ToList();
            await _context.Lake.Storage.FetchAsync(snapshots, ct);
        }
        return _context.Lake.Resolve(folder);
    }

    public string StagingPath(string fileName) => Path.Combine(Staging, fileName);

    /// <summary>Writes the page and the KPI snapshot, and adds every staged file to the commit. Returns the lake paths.</summary>
    public async Task<IReadOnlyList<string>> PublishAsync(string html, KpiSnapshot kpis, CancellationToken ct)
    {
        await File.WriteAllTextAsync(StagingPath("index.html"), html, ct);
        await File.WriteAllTextAsync(StagingPath(KpiHistory.FileName), KpiHistory.Serialize(kpis), ct);
        _context.Faults.Hit($"{_context.Workflow}.{_context.Step.Id}.mid-write");
        var published = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Staging).Order(StringComparer.Ordinal))
        {
            var final = $"{Folder}/{Path.GetFileName(file)}";
            _context.Commit.AddStagedFile(new StagedFile(_context.Lake.ToRelative(file), final));
            published.Add(final);
        }
        return published;
    }

    /// <summary>Writes a CSV file (header, RFC 4180 quoting) of rows made in code, beside the page.</summary>
    public async Task WriteCsvAsync(string fileName, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string>> rows, CancellationToken ct)
    {
        static string Field(string value) =>
            value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
        var text = new System.Text.StringBuilder();
        text.Append(string.Join(',', columns.Select(Field))).Append('\n');
        foreach (var row in rows) text.Append(string.Join(',', row.Select(Field))).Append('\n');
        await File.WriteAllTextAsync(StagingPath(fileName), text.ToString(), ct);
    }

    /// <summary>Leaves the step's output table: one row per KPI (label, value, previous, change).</summary>
    public static Task WriteKpiTableAsync(StepContext context, IReadOnlyList<KpiValue> kpis, CancellationToken ct)
    {
        static string Literal(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) + "::DOUBLE" : "NULL";
        var rows = kpis.Select(k => $"({SqlText.Quote(k.Label)}, {Literal(k.Value)}, {Literal(k.Previous)}, {Literal(k.Change)})");
        return DuckDb.ExecuteAsync(context.Connection, $"""
            CREATE TABLE {context.OutputTable} (label VARCHAR, value DOUBLE, previous DOUBLE, change DOUBLE);
            {(kpis.Count == 0 ? "" : $"INSERT INTO {context.OutputTable} VALUES {string.Join(", ", rows)};")}
            """, ct);
    }

    /// <summary>The run date of the step's run (<c>run.date</c>).</summary>
    public static DateOnly RunDateOf(StepContext context) => (DateOnly)context.Parameters[BuiltInParameters.RunDate].Value;
}
