using Microsoft.Data.Sqlite;
using Millrace.Cli.Tests.TestSupport;

namespace Millrace.Cli.Tests.Commands;

/// <summary>
/// A store another process keeps locked past the busy timeout (shortened here with <c>MILLRACE_STORE_BUSY_TIMEOUT_MS</c>)
/// is one clear error line and exit code 1, never an unhandled exception with a stack trace; nothing is recorded.
/// </summary>
[Trait("Category", "Security")]
public sealed class StoreLockedTests : IDisposable
{
    const string RunDate = "2026-01-03";
    readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_run_on_a_store_locked_past_the_busy_timeout_prints_the_cause_and_exits_1()
    {
        ExactlyOnceTests.WriteProject(_directory);
        var first = await Shell.RunAsync("run", "daily", "-p", _directory.Path, "--var", $"run.date={RunDate}");
        Assert.True(first.ExitCode == 0, first.ToString());
        var runsBefore = (await Committed.RunsAsync(_directory.Path)).Count;

        await using (var holder = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, ".millrace", "millrace.db")};Pooling=False"))
        {
            await holder.OpenAsync();
            await using var locked = holder.BeginTransaction(deferred: false); // BEGIN IMMEDIATE: the write lock, held
            var environment = new Dictionary<string, string> { ["MILLRACE_STORE_BUSY_TIMEOUT_MS"] = "300" };
            foreach (var args in new[] { new[] { "run", "daily", "--var", "run.date=2026-01-04" }, ["backfill", "daily", "--from", "2026-01-04", "--to", "2026-01-05"] })
            {
                var result = await Shell.RunProcessAsync(environment, TimeSpan.FromMinutes(2), [.. args, "-p", _directory.Path]);
                Assert.True(result.ExitCode == 1, result.ToString());
                Assert.Contains("error: the store is locked by another process", result.Error, StringComparison.Ordinal);
                Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
                Assert.DoesNotContain("Unhandled exception", result.Error, StringComparison.Ordinal);
            }
        }
        SqliteConnection.ClearAllPools();
        Assert.Equal(runsBefore, (await Committed.RunsAsync(_directory.Path)).Count);
    }
}
