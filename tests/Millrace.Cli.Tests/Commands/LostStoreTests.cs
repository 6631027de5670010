using Microsoft.Data.Sqlite;
using Millrace.Cli.Tests.TestSupport;
using Millrace.Storage;

namespace Millrace.Cli.Tests.Commands;

/// <summary>
/// A lost or damaged store is never silently replaced: over a lake with committed data, a missing, 0-byte, garbage,
/// truncated or foreign store file is refused with what to do, nothing is written to the lake, and the damaged file
/// is left as it was. A new project's first run, <c>init</c> and <c>--create-store</c> create a store.
/// </summary>
[Trait("Category", "Security")]
public sealed class LostStoreTests : IDisposable
{
    const string RunDate = "2026-01-03";
    readonly TempDirectory _directory = new();

    string StorePath => Path.Combine(_directory.Path, ".millrace", "millrace.db");
    string ExportPath => Path.Combine(_directory.Path, "lake", "exports", $"dt={RunDate}", "new_events.csv");

    public void Dispose() => _directory.Dispose();

    async Task<string> RunOnceAsync()
    {
        ExactlyOnceTests.WriteProject(_directory);
        var first = await Shell.RunAsync("run", "daily", "-p", _directory.Path, "--var", $"run.date={RunDate}");
        Assert.True(first.ExitCode == 0, first.ToString());
        SqliteConnection.ClearAllPools();
        return File.ReadAllText(ExportPath);
    }

    static void AssertRefused(CliResult result, string expected)
    {
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal); // no stack trace
        Assert.StartsWith("error: ", result.Error, StringComparison.Ordinal);
    }

    Dictionary<string, long> LakeFiles() => Directory.EnumerateFiles(Path.Combine(_directory.Path, "lake"), "*", SearchOption.AllDirectories)
        .ToDictionary(f => f, f => new FileInfo(f).Length, StringComparer.Ordinal);

    [Fact]
    public async Task A_deleted_store_over_committed_data_is_refused_and_the_lake_is_untouched()
    {
        var export = await RunOnceAsync();
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(StorePath)!, "millrace.db*")) File.Delete(file);
        var lake = LakeFiles();

        foreach (var args in new[] { new[] { "run", "daily", "--var", $"run.date={RunDate}" }, ["gc"], ["runs"], ["datasets"], ["backfill", "daily", "--from", RunDate, "--to", RunDate] })
        {
            var result = await Shell.RunAsync([.. args, "-p", _directory.Path]);
            AssertRefused(result, "the store was lost");
            Assert.Contains("Restore it from its backup", result.Error, StringComparison.Ordinal);
            Assert.Contains("--create-store", result.Error, StringComparison.Ordinal);
        }
        Assert.False(File.Exists(StorePath), "a refused open must not create the store file");
        Assert.Equal(lake, LakeFiles());
        Assert.Equal(export, File.ReadAllText(ExportPath));
    }

    [Fact]
    public async Task A_zero_byte_store_over_committed_data_is_refused()
    {
        await RunOnceAsync();
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(StorePath)!, "millrace.db-*")) File.Delete(file);
        File.WriteAllBytes(StorePath, []);

        AssertRefused(await Shell.RunAsync("run", "daily", "-p", _directory.Path, "--var", $"run.date={RunDate}"), "is empty (0 bytes)");
        Assert.Equal(0, new FileInfo(StorePath).Length);
    }

    [Fact]
    public async Task A_garbage_store_is_reported_damaged_and_left_as_it_was()
    {
        await RunOnceAsync();
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(StorePath)!, "millrace.db-*")) File.Delete(file);
        var garbage = Enumerable.Range(0, 8192).Select(i => (byte)(i * 31 % 251)).ToArray();
        File.WriteAllBytes(StorePath, garbage);

        var result = await Shell.RunAsync("run", "daily", "-p", _directory.Path, "--var", $"run.date={RunDate}");
        AssertRefused(result, "is damaged");
        Assert.Contains(StorePath, result.Error, StringComparison.Ordinal);
        Assert.Equal(garbage, File.ReadAllBytes(StorePath));
        AssertRefused(await Shell.RunAsync("runs", "-p", _directory.Path), "is damaged");
    }

    [Fact]
    public async Task A_truncated_store_is_reported_damaged()
    {
        await RunOnceAsync();
        // Fold the WAL into the file, then cut the file in half: pages the schema points at are gone.
        await using (var connection = new SqliteConnection($"Data Source={StorePath};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;";
            await checkpoint.ExecuteNonQueryAsync();
        }
        var bytes = File.ReadAllBytes(StorePath);
        Assert.True(bytes.Length > 8192, $"the store is only {bytes.Length} bytes");
        File.WriteAllBytes(StorePath, bytes[..(bytes.Length / 2)]);

        AssertRefused(await Shell.RunAsync("run", "daily", "-p", _directory.Path, "--var", $"run.date={RunDate}"), "is damaged");
    }

    [Fact]
    public async Task An_sqlite_file_that_is_not_a_millrace_store_is_refused()
    {
        ExactlyOnceTests.WriteProject(_directory);
        Directory.CreateDirectory(Path.GetDirectoryName(StorePath)!);
        await using (var connection = new SqliteConnection($"Data Source={StorePath};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var create = connection.CreateCommand();
            create.CommandText = "CREATE TABLE customers (id INTEGER); INSERT INTO customers VALUES (1);";
            await create.ExecuteNonQueryAsync();
        }
        AssertRefused(await Shell.RunAsync("run", "daily", "-p", _directory.Path, "--var", $"run.date={RunDate}"), "not a Millrace store");
    }

    [Fact]
    public async Task Create_store_starts_over_deliberately()
    {
        await RunOnceAsync();
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(StorePath)!, "millrace.db*")) File.Delete(file);

        // What the lost store left: its journal, which must not be replayed into the new store.
        File.WriteAllBytes(StorePath + "-wal", Enumerable.Repeat((byte)7, 4096).ToArray());

        var result = await Shell.RunAsync("run", "daily", "-p", _directory.Path, "--var", $"run.date={RunDate}", "--create-store");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(File.Exists(StorePath));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(StorePath)!, "millrace.db-wal.orphaned-*"));
    }

    [Fact]
    public async Task A_new_projects_first_run_and_init_create_the_store()
    {
        ExactlyOnceTests.WriteProject(_directory);
        var first = await Shell.RunAsync("run", "daily", "-p", _directory.Path, "--var", $"run.date={RunDate}");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.True(File.Exists(StorePath));

        using var other = new TempDirectory();
        var init = await Shell.RunAsync("init", Path.Combine(other.Path, "fresh"));
        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.True(File.Exists(Path.Combine(other.Path, "fresh", ".millrace", "millrace.db")));
    }

    [Fact]
    public async Task Serve_refuses_a_project_whose_store_was_lost()
    {
        await RunOnceAsync();
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(StorePath)!, "millrace.db*")) File.Delete(file);

        var result = await Shell.RunAsync("serve", "-p", _directory.Path, "--urls", "http://127.0.0.1:0", "--no-scheduler");
        AssertRefused(result, "the store was lost");
        Assert.False(File.Exists(StorePath));
    }

    [Fact]
    public async Task HasSchema_tells_an_empty_database_from_a_store()
    {
        // The migration-table check is the one both dialects use: a store file without it opens as "no schema".
        var path = Path.Combine(_directory.Path, "empty.db");
        await using var store = new SqliteMetadataStore(path);
        Assert.False(await store.HasSchemaAsync(CancellationToken.None));
        await store.MigrateAsync(CancellationToken.None);
        Assert.True(await store.HasSchemaAsync(CancellationToken.None));
    }
}
