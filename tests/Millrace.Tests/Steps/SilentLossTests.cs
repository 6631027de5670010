using System.IO.Compression;
using System.Text;
using Millrace.Storage;
using Millrace.Tests.TestSupport;
using static Millrace.Tests.Quality.QualityProject;

namespace Millrace.Tests.Steps;

/// <summary>
/// A non-empty landing file that gives no rows and no rejected rows (a header opening a quote that never closes, NUL
/// bytes, UTF-16 text, binary garbage), or that is broken (a truncated gzip, Parquet or JSON file), is never a silent
/// success: under <c>on_error: fail</c> the run fails naming it and the watermark does not take it; under
/// <c>on_error: quarantine</c> it is quarantined whole with its reason and the good files go on.
/// </summary>
[Trait("Category", "Security")]
public sealed class SilentLossTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _project.DisposeAsync();

    const string Good = "order_id,amount\n1,10\n2,20\n";

    /// <summary>The malformed shapes: name, file name, bytes (a good file of the same format lands beside it).</summary>
    public static TheoryData<string> Shapes => new(Malformed.Keys);

    static readonly Dictionary<string, (string File, Func<byte[]> Bytes)> Malformed = new()
    {
        ["unbalanced quote in the header"] = ("b_bad.csv", () => Encoding.UTF8.GetBytes("\"order_id,amount\n3,30\n4,40\n")),
        ["NUL bytes only"] = ("b_bad.csv", () => new byte[2000]),
        ["UTF-16 text"] = ("b_bad.csv", () => Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("order_id,amount\n3,30\n4,40\n")).ToArray()),
        ["binary garbage"] = ("b_bad.csv", () => { var bytes = new byte[3000]; new Random(13).NextBytes(bytes); return bytes; }),
        ["truncated gzip"] = ("b_bad.csv.gz", () => Gzip(Rows(3, 2000))[..200]),
        ["truncated JSON"] = ("b_bad.json", () => Encoding.UTF8.GetBytes("[{\"order_id\": 3, \"amount\": 30}, {\"order_id\"")),
        ["truncated Parquet"] = ("b_bad.parquet", () => Parquet("SELECT range + 3 AS order_id, range * 10 AS amount FROM range(500)")[..300]),
    };

    static string Rows(int from, int count) =>
        "order_id,amount\n" + string.Concat(Enumerable.Range(from, count).Select(i => $"{i},{i * 10}\n"));

    static byte[] Gzip(string text)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Optimal)) gzip.Write(Encoding.UTF8.GetBytes(text));
        return memory.ToArray();
    }

    static byte[] Parquet(string select)
    {
        using var folder = new TempDirectory("parquet");
        var path = Path.Combine(folder.Path, "x.parquet");
        TestProject.Execute($"COPY ({select}) TO '{path}' (FORMAT parquet)");
        return File.ReadAllBytes(path);
    }

    void Land(string relative, byte[] bytes)
    {
        var path = _project.LakePath(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>Lands the good file and the malformed one; returns the malformed file's lake path.</summary>
    string LandShape(string shape)
    {
        var (file, bytes) = Malformed[shape];
        var format = file.EndsWith(".parquet", StringComparison.Ordinal) ? "parquet" : file.EndsWith(".json", StringComparison.Ordinal) ? "json" : "csv";
        Land($"raw/orders/a_good.{(format == "csv" ? "csv" : format)}", format switch
        {
            "parquet" => Parquet("SELECT 1::BIGINT AS order_id, 10::BIGINT AS amount UNION ALL SELECT 2, 20"),
            "json" => Encoding.UTF8.GetBytes("[{\"order_id\": 1, \"amount\": 10}, {\"order_id\": 2, \"amount\": 20}]"),
            _ => Encoding.UTF8.GetBytes(Good),
        });
        Land($"raw/orders/{file}", bytes());
        var schema = format == "csv" ? "schema: { order_id: BIGINT, amount: BIGINT }" : "";
        Ingest(format, schema);
        return $"raw/orders/{file}";
    }

    string _onError = "fail";

    void Ingest(string format, string options) => _project.Workflow("ingest", $"""
        name: ingest
        steps:
          - id: orders
            type: read
            path: raw/orders/*
            format: {format}
            incremental: true
            on_error: {_onError}
            {options}
          - id: history
            type: write
            input: orders
            dataset: orders
            mode: append
        """);

    async Task<IReadOnlyDictionary<string, WatermarkFile>> WatermarkAsync() =>
        await (await _project.StoreAsync()).GetWatermarkAsync("ingest", "orders", CancellationToken.None);

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task A_malformed_file_fails_the_run_naming_it_and_is_not_watermarked(string shape)
    {
        var bad = LandShape(shape);

        var run = await _project.RunAsync("ingest");

        Assert.Equal(RunStatus.Failed, run.Status);
        var error = (await _project.StepRunAsync(run.Id, "orders")).Error;
        Assert.Contains(bad, error);
        Assert.Empty(await WatermarkAsync());
        Assert.Null(await _project.DatasetVersionAsync("orders"));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Under_quarantine_a_malformed_file_is_quarantined_whole_with_its_reason_and_the_good_file_goes_on(string shape)
    {
        _onError = "quarantine";
        var bad = LandShape(shape);

        var run = await _project.RunOkAsync();

        Assert.Equal([1L, 2L], (await _project.QueryDatasetAsync("orders", "SELECT order_id FROM {dataset} ORDER BY 1")).Select(r => Long(r[0])));
        var quarantined = $"quarantine/orders/{run.Id}/files/{bad}";
        Assert.Contains(quarantined, _project.QuarantineFiles());
        Assert.Equal(await File.ReadAllBytesAsync(_project.LakePath(bad)), await File.ReadAllBytesAsync(_project.LakePath(quarantined)));
        var anomaly = await _project.SingleAnomalyAsync(run.Id, "unreadable_file");
        Assert.StartsWith($"{bad} quarantined whole to {quarantined}: ", anomaly.Message);
        Assert.Equal(bad, DetailsOf(anomaly).GetProperty("file").GetString());
        // Accounted for, as quarantined rows are: the next run does not take it again.
        var watermark = await WatermarkAsync();
        Assert.Equal(2, watermark.Count);
        Assert.Contains(bad, watermark.Keys);
    }

    [Fact]
    public async Task The_unbalanced_quote_error_names_the_line_it_opens_on()
    {
        Land("raw/orders/a.csv", Encoding.UTF8.GetBytes(Good));
        Land("raw/orders/b.csv", Encoding.UTF8.GetBytes("order_id,amount\n\"3,30\n4,40\n"));
        Ingest("csv", "schema: { order_id: BIGINT, amount: BIGINT }");

        var run = await _project.RunAsync("ingest");

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("raw/orders/b.csv", (await _project.StepRunAsync(run.Id, "orders")).Error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("schema: { order_id: BIGINT, amount: BIGINT }")]
    public async Task A_file_of_NUL_bytes_fails_with_or_without_a_schema(string schema)
    {
        Land("raw/orders/a.csv", Encoding.UTF8.GetBytes(Good));
        Land("raw/orders/b.csv", new byte[500]);
        Ingest("csv", schema);

        var run = await _project.RunAsync("ingest");

        Assert.Equal(RunStatus.Failed, run.Status);
        var error = (await _project.StepRunAsync(run.Id, "orders")).Error;
        Assert.Contains("raw/orders/b.csv", error);
        Assert.Contains("NUL", error);
    }

    [Fact]
    public async Task Under_quarantine_a_batch_of_only_malformed_files_commits_an_empty_table_and_the_quarantine()
    {
        _onError = "quarantine";
        Land("raw/orders/b.csv", new byte[100]);
        Land("raw/orders/c.csv", Encoding.UTF8.GetBytes("\"order_id,amount\n3,30\n"));
        Ingest("csv", "schema: { order_id: BIGINT, amount: BIGINT }");

        var run = await _project.RunOkAsync();

        Assert.Equal(0, (await _project.DatasetVersionAsync("orders"))!.Rows);
        Assert.Equal(2, (await _project.AnomaliesOfAsync(run.Id)).Count(a => a.Kind == "unreadable_file"));
        Assert.Equal(2, _project.QuarantineFiles().Count);
    }

    [Theory]
    [InlineData("csv", "a.csv", "order_id,amount\n")]
    [InlineData("csv", "a.csv", "order_id,amount")]
    [InlineData("json", "a.json", "[]\n")]
    public async Task A_well_formed_file_without_rows_is_still_read_as_empty(string format, string file, string content)
    {
        Land($"raw/orders/{file}", Encoding.UTF8.GetBytes(content));
        Land($"raw/orders/b.{format}", Encoding.UTF8.GetBytes(format == "csv" ? Good : "[{\"order_id\": 1, \"amount\": 10}, {\"order_id\": 2, \"amount\": 20}]"));
        Ingest(format, format == "csv" ? "schema: { order_id: BIGINT, amount: BIGINT }" : "");

        var run = await _project.RunOkAsync();

        Assert.Equal(2, (await _project.StepRunAsync(run.Id, "orders")).Rows);
        Assert.Equal(2, (await WatermarkAsync()).Count);
    }

    [Fact]
    public async Task A_Parquet_file_without_rows_is_still_read_as_empty()
    {
        Land("raw/orders/a.parquet", Parquet("SELECT 1::BIGINT AS order_id, 10::BIGINT AS amount WHERE false"));
        Land("raw/orders/b.parquet", Parquet("SELECT 1::BIGINT AS order_id, 10::BIGINT AS amount"));
        Ingest("parquet", "");

        var run = await _project.RunOkAsync();

        Assert.Equal(1, (await _project.StepRunAsync(run.Id, "orders")).Rows);
    }

    [Fact]
    public async Task A_complete_gzip_file_is_read_whole()
    {
        Land("raw/orders/a.csv.gz", Gzip(Rows(1, 2000)));
        Ingest("csv", "schema: { order_id: BIGINT, amount: BIGINT }");

        var run = await _project.RunOkAsync();

        Assert.Equal(2000, (await _project.StepRunAsync(run.Id, "orders")).Rows);
    }

    [Fact]
    public async Task The_filename_column_still_holds_lake_paths()
    {
        Land("raw/orders/a.csv", Encoding.UTF8.GetBytes(Good));
        Ingest("csv", "filename: true");

        await _project.RunOkAsync();

        Assert.Equal(["raw/orders/a.csv"], (await _project.QueryDatasetAsync("orders", "SELECT DISTINCT filename FROM {dataset}")).Select(r => (string)r[0]!));
    }
}
