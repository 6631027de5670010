using System.Diagnostics;
using System.Text;
using Millrace.Definitions;
using Millrace.Tests.TestSupport;
using Xunit.Abstractions;

namespace Millrace.Tests.Definitions;

/// <summary>
/// Fuzzes the definition loader and validator (<see cref="Project.Check"/>, what validate, run and the server's
/// validate/reload call) with truncated and mutated copies of the sample project and of fixtures that use the other
/// fields: every case must end in definition errors (or none), never in an exception, in bounded time and memory,
/// and never through the loader's safety net (an "internal error" means a reader met a shape it did not expect).
/// </summary>
[Trait("Category", "Security")]
public sealed class LoaderFuzzTests(ITestOutputHelper output) : IDisposable
{
    const int Seed = 1313;
    const int MutatedCases = 2000;
    static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(10);
    const long AllocationLimit = 512L * 1024 * 1024;

    static readonly string[] Insertions =
    [
        "{", "}", "[", "]", "\"", "'", "&a ", "*a", "*a ", "!tag ", "!!binary ", "!!int ", "\t", "\0", "\uFEFF", ": ", "- ", "? ",
        "|", ">", "%YAML 1.2\n", "@", "`", "#", "\n", "\r", "\r\n", "---\n", "...\n", "<<: *a\n", ",", "&a [*a]", "\u2028", "\uD800",
        "$", "${", "${env:", "$$", "x: { a: 1, b: 2\n", "\\", "  ", "~", "null", "0x", "1e999", "NaN", "-.inf",
    ];

    readonly TempDirectory _folder = new("fuzz");
    readonly Dictionary<string, string> _originals = Fixtures();

    public void Dispose() => _folder.Dispose();

    /// <summary>The sample project (samples/churn, copied next to the tests) and fixtures for the fields it does not use.</summary>
    static Dictionary<string, string> Fixtures()
    {
        var sample = Path.Combine(AppContext.BaseDirectory, "Fixtures", "churn");
        var files = Directory.EnumerateFiles(sample, "*.yaml", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(sample, f).Replace('\\', '/'), File.ReadAllText);
        Assert.True(files.Count >= 8, $"the sample definitions were not copied next to the tests ({sample})");
        files["pipelines/nightly.yaml"] = """
            name: nightly
            workflows: [ingest, quality]
            parameters: { region: { type: string, default: north }, limit: 5 }
            schedule: { cron: "0 6 * * *", timezone: Europe/Paris, catch_up: 2 }
            concurrency: { max_active: 2, on_overlap: skip }
            retries: { attempts: 2, backoff: 30s }
            timeout: 2h
            notify:
              - url: https://hooks.example.com/millrace
                on: [run.failed, anomaly]
                secret: ${env:HOOK_SECRET}
            """;
        files["workflows/quality.yaml"] = """
            name: quality
            max_parallel: 2
            parameters: { threshold: { type: double, default: 3.5 } }
            steps:
              - id: sales
                type: read
                path: raw/sales/region=${region}/*.csv
                schema: { id: BIGINT, amount: DOUBLE, day: DATE }
              - id: checked
                type: check
                input: sales
                expect:
                  - freshness: { column: day, max_age: 2d }
                  - rows: { min: 1, max: 100000 }
                  - regex: { column: id, pattern: '^[0-9]+$' }
                  - volume: { threshold: 3, seasonal: weekday }
                on_failure: warn
              - id: spikes
                type: detect_anomalies
                input: checked
                method: timeseries
                time: day
                bucket: day
                value: amount
                window: 14
              - id: out
                type: write
                input: checked
                path: exports/${region}/out.csv
            """;
        return files;
    }

    [Fact]
    public void The_unchanged_fixtures_load_without_errors()
    {
        Write(_originals);
        DefinitionAssert.None(Project.Check(_folder.Path).Errors);
    }

    [Fact]
    public void Every_prefix_of_every_file_gives_only_definition_errors()
    {
        var cases = 0;
        foreach (var (file, text) in _originals)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            var step = Math.Max(1, bytes.Length / 40);
            for (var length = 0; length < bytes.Length; length += step, cases++)
                Check($"{file} cut at byte {length}", file, bytes[..length]);
        }
        output.WriteLine($"{cases} truncated cases");
    }

    [Fact]
    public void Mutated_copies_give_only_definition_errors()
    {
        var random = new Random(Seed);
        var files = _originals.Keys.Order(StringComparer.Ordinal).ToArray();
        for (var i = 0; i < MutatedCases; i++)
        {
            var file = files[random.Next(files.Length)];
            var bytes = Encoding.UTF8.GetBytes(_originals[file]).ToList();
            var applied = new List<string>();
            for (var m = random.Next(1, 4); m > 0; m--) applied.Add(Mutate(bytes, random));
            Check($"case {i} (seed {Seed}): {file} with {string.Join(", ", applied)}", file, bytes.ToArray());
        }
    }

    static string Mutate(List<byte> bytes, Random random)
    {
        var at = random.Next(bytes.Count + 1);
        switch (random.Next(4))
        {
            case 0 when bytes.Count > 0:
                var index = Math.Min(at, bytes.Count - 1);
                var bit = random.Next(8);
                bytes[index] ^= (byte)(1 << bit);
                return $"bit {bit} flipped at {index}";
            case 1 when bytes.Count > 0:
                var count = Math.Min(random.Next(1, 40), bytes.Count - Math.Min(at, bytes.Count - 1));
                bytes.RemoveRange(Math.Min(at, bytes.Count - 1), count);
                return $"{count} bytes removed at {at}";
            default:
                var insertion = Insertions[random.Next(Insertions.Length)];
                bytes.InsertRange(at, Encoding.UTF8.GetBytes(insertion));
                return $"'{Escape(insertion)}' inserted at {at}";
        }
    }

    public static TheoryData<string, string> Hostile => new()
    {
        { "the issue's repro", "name: ingest\nsteps:\n  - { id: a, type: read, path: raw/a.csv }\nx: { a: 1, b: 2\ny: 3\n" },
        { "an unclosed flow sequence", "name: ingest\nsteps: [\n  - id: a\n" },
        { "flow nesting 10,000 deep", "name: ingest\nsteps: " + new string('[', 10_000) + new string(']', 10_000) + "\n" },
        { "mapping nesting 5,000 deep", "name: ingest\nsteps: " + string.Concat(Enumerable.Repeat("{a: ", 5_000)) + "1" + new string('}', 5_000) + "\n" },
        { "block nesting 2,000 deep", "name: ingest\nx:\n" + string.Concat(Enumerable.Range(1, 2_000).Select(i => new string(' ', i) + "k:\n")) },
        { "a billion laughs", BillionLaughs() },
        { "aliases expanding to 80,000 values in a step", Laughs(4) + "name: ingest\nsteps:\n  - { id: a, type: sql, sql: SELECT 1, x: [" + string.Join(", ", Enumerable.Repeat("*l4", 8)) + "] }\n" },
        { "an alias inside its own anchor", "name: ingest\nsteps: &s\n  - id: a\n    type: sql\n    sql: SELECT 1\n    more: *s\n" },
        { "an alias to no anchor", "name: ingest\nsteps: *nothing\n" },
        { "a forward alias", "name: ingest\nsteps: *later\nx: &later [1]\n" },
        { "a 1 MB scalar", "name: ingest\ndescription: " + new string('x', 1_000_000) + "\nsteps:\n  - { id: a, type: sql, sql: SELECT 1 }\n" },
        { "a 1 MB step type", "name: ingest\nsteps:\n  - { id: a, type: " + new string('r', 1_000_000) + " }\n" },
        { "a file over the size limit", "name: ingest\ndescription: " + new string('x', YamlDocuments.MaxFileBytes + 10) + "\n" },
        { "20,000 list items", "name: ingest\nsteps:\n  - { id: a, type: check, expect: [{ allowed: { column: c, values: [" + string.Join(",", Enumerable.Range(0, 20_000)) + "] } }] }\n" },
        { "2,000 steps in a chain", "name: ingest\nsteps:\n  - { id: s0, type: sql, sql: SELECT 1 }\n" + string.Concat(Enumerable.Range(1, 2_000).Select(i => $"  - {{ id: s{i}, type: sql, input: s{i - 1}, sql: SELECT * FROM s{i - 1} }}\n")) },
        { "duplicate keys", "name: ingest\nname: again\nsteps: []\n" },
        { "non-scalar keys", "name: ingest\nparameters: { ? [a, b] : 1 }\nsteps:\n  - { id: a, type: read, path: raw/a.csv, schema: { ? [x] : BIGINT } }\n  - { id: b, type: check, input: a, expect: [{ ? [not_null] : [x] }] }\n" },
        { "tags everywhere", "!!map\nname: !!str ingest\nsteps: !custom\n  - !!map { id: !!binary YQ==, type: !x sql, sql: !!int 1 }\n" },
        { "NUL bytes", "name: ingest\0\nsteps:\n  - { id: a\0, type: sql, sql: SELECT 1 }\n" },
        { "a BOM in the middle", "name: ingest\n\uFEFFsteps:\n  - { id: a, type: sql, sql: SELECT 1 }\n" },
        { "only a BOM", "\uFEFF" },
        { "an empty file", "" },
        { "only comments", "# nothing here\n" },
        { "two documents", "name: ingest\nsteps: []\n---\nname: other\n...\n" },
        { "a scalar document", "just text" },
        { "a lone surrogate", "name: ingest\nsteps:\n  - { id: a, type: sql, sql: \"SELECT '\\uD800'\" }\n" },
        { "tabs for indentation", "name: ingest\nsteps:\n\t- id: a\n\t  type: sql\n" },
        { "extreme numbers and durations", "name: ingest\nmax_parallel: 99999999999999999999\nsteps:\n  - { id: a, type: check, input: b, expect: [{ freshness: { column: c, max_age: 99999999d } }, { rows: { min: 1e999 } }] }\n" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_documents_give_located_definition_errors(string name, string text)
    {
        var errors = Check(name, "workflows/ingest.yaml", Encoding.UTF8.GetBytes(text));
        if (name is not ("only comments" or "an empty file" or "only a BOM" or "tags everywhere" or "a 1 MB scalar"))
            Assert.True(errors.Count > 0, $"{name}: expected definition errors");
        Assert.All(errors, e => Assert.True(e.Location.Line >= 0 && e.Location.File.Length > 0, e.ToString()));
    }

    [Fact]
    public void A_billion_laughs_is_refused_at_the_alias_that_makes_it_too_large()
    {
        var errors = Check("billion laughs", "workflows/ingest.yaml", Encoding.UTF8.GetBytes(BillionLaughs()));

        var error = DefinitionAssert.Single(errors, "with its aliases expanded");
        Assert.Equal("workflows/ingest.yaml", error.Location.File);
        Assert.InRange(error.Location.Line, 3, 12);
    }

    [Fact]
    public void A_control_character_is_refused_where_it_is()
    {
        var error = DefinitionAssert.Single(Check("NUL", "workflows/ingest.yaml", Encoding.UTF8.GetBytes("name: ingest\nsteps:\n  - { id: a\0, type: sql, sql: SELECT 1 }\n")), "U+0000");

        Assert.Equal(new SourceLocation("workflows/ingest.yaml", 3, 12), error.Location);
    }

    [Fact]
    public void Nesting_beyond_the_limit_is_refused_where_it_goes_too_deep()
    {
        var text = "name: ingest\nsteps: " + new string('[', 100) + new string(']', 100) + "\n";

        var error = DefinitionAssert.Single(Check("deep", "workflows/ingest.yaml", Encoding.UTF8.GetBytes(text)), "nest more than 64 levels");

        Assert.Equal(new SourceLocation("workflows/ingest.yaml", 2, 8 + YamlDocuments.MaxDepth - 1), error.Location);
    }

    /// <summary>Nine levels of ten aliases each: 10^9 values once expanded, from under 1 KB of text.</summary>
    static string BillionLaughs() => "name: ingest\nsteps: []\n" + Laughs(9) + "boom: *l9\n";

    /// <summary>Anchors l0 to l<paramref name="levels"/>, each a list of ten aliases of the one before: 10^levels values.</summary>
    static string Laughs(int levels)
    {
        var text = new StringBuilder("lol0: &l0 lol\n");
        for (var level = 1; level <= levels; level++)
            text.Append($"lol{level}: &l{level} [{string.Join(", ", Enumerable.Repeat($"*l{level - 1}", 10))}]\n");
        return text.ToString();
    }

    /// <summary>
    /// Checks a project of <paramref name="file"/> holding <paramref name="content"/> and the sample's millrace.yaml
    /// (one file, so that thousands of cases stay fast; the other files' names are then unknown, which are
    /// definition errors too): only definition errors, in bounded time and memory.
    /// </summary>
    IReadOnlyList<DefinitionError> Check(string name, string file, byte[] content)
    {
        Write(new Dictionary<string, string> { [ProjectLoader.ProjectFileName] = _originals[ProjectLoader.ProjectFileName] });
        var path = Path.Combine(_folder.Path, file);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        IReadOnlyList<DefinitionError> errors;
        try
        {
            errors = Project.Check(_folder.Path).Errors;
        }
        catch (Exception e)
        {
            Assert.Fail($"{name}: {e.GetType().Name} escaped the loader: {e.Message}{Environment.NewLine}{Excerpt(content)}{Environment.NewLine}{e}");
            throw;
        }
        clock.Stop();
        var used = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.True(clock.Elapsed < CaseLimit, $"{name}: took {clock.Elapsed.TotalSeconds:0.0}s");
        Assert.True(used < AllocationLimit, $"{name}: allocated {used / 1024 / 1024} MB");
        var internalErrors = errors.Where(e => e.Message.Contains(ProjectValidator.InternalError, StringComparison.Ordinal)).ToList();
        Assert.True(internalErrors.Count == 0, $"{name}: a reader met a shape it did not expect:{Environment.NewLine}{string.Join(Environment.NewLine, internalErrors)}{Environment.NewLine}{Excerpt(content)}");
        return errors;
    }

    void Write(IReadOnlyDictionary<string, string> files)
    {
        foreach (var folder in new[] { "workflows", "pipelines" })
            if (Directory.Exists(Path.Combine(_folder.Path, folder))) Directory.Delete(Path.Combine(_folder.Path, folder), recursive: true);
        foreach (var (file, text) in files) _folder.Write(file, text);
    }

    static string Excerpt(byte[] content) => Escape(Encoding.UTF8.GetString(content.Length > 600 ? content[..600] : content));

    static string Escape(string text) => string.Concat(text.Select(c => char.IsControl(c) && c != '\n' ? $"\\u{(int)c:x4}" : c.ToString()));
}
