using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Millrace.Engine;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Engine;

/// <summary>
/// A store that cannot be written at a step boundary (a write lock another connection holds past the busy timeout, a
/// full disk) fails the run with that cause: recorded when the store takes writes again, else thrown as one clear
/// <see cref="RunNotRecordedException"/> whose cause is kept for the process that later finds the run interrupted.
/// Nothing of the failed workflow becomes visible.
/// </summary>
[Trait("Category", "Security")]
public sealed class StoreWriteFailureTests : IAsyncLifetime
{
    readonly TestProject _project = new();
    SqliteMetadataStore _store = null!;

    string StorePath => Path.Combine(_project.Directory, ".millrace", "millrace.db");

    public async Task InitializeAsync()
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("wf", """
            name: wf
            steps:
              - { id: customers, type: read, path: raw/customers.csv }
              - { id: save, type: write, input: customers, dataset: customers }
              - { id: count, type: sql, inputs: [save], sql: "SELECT count(*) AS n FROM save" }
            """);
        _store = new SqliteMetadataStore(StorePath, TimeSpan.FromMilliseconds(300));
        await _store.MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await _project.DisposeAsync();
    }

    /// <summary>Takes the store's write lock from another connection when step <paramref name="afterStep"/> has finished.</summary>
    sealed class LockAfterStep(string path, string afterStep) : IRunObserver, IDisposable
    {
        SqliteConnection? _connection;
        SqliteTransaction? _transaction;
        public TaskCompletionSource Locked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void StepFinished(StepRun stepRun)
        {
            if (stepRun.StepId != afterStep || _connection is not null) return;
            _connection = new SqliteConnection($"Data Source={path};Pooling=False");
            _connection.Open();
            _transaction = _connection.BeginTransaction(deferred: false); // BEGIN IMMEDIATE: the write lock
            Locked.SetResult();
        }

        public void Release()
        {
            _transaction?.Rollback();
            _connection?.Dispose();
            (_transaction, _connection) = (null, null);
        }

        public void Dispose() => Release();
    }

    [Fact]
    public async Task A_lock_held_past_the_busy_timeout_fails_the_run_with_the_cause_recorded_once_the_store_is_free()
    {
        using var holder = new LockAfterStep(StorePath, "customers");
        var runner = new Runner(_project.Open(), _store) { DuckDbThreads = 1, StoreRetryWindow = TimeSpan.FromSeconds(60) };
        var running = runner.RunAsync(new RunRequest("wf", []), holder);
        await holder.Locked.Task.WaitAsync(TimeSpan.FromMinutes(1));
        // Held for several busy timeouts: every write of the run fails meanwhile; then the store is free again.
        await Task.Delay(TimeSpan.FromSeconds(2));
        holder.Release();

        var run = await running.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("the store is locked by another process", run.Error, StringComparison.Ordinal);
        var recorded = await _store.GetRunAsync(run.Id, CancellationToken.None);
        Assert.Equal(RunStatus.Failed, recorded!.Status);
        Assert.Equal(run.Error, recorded.Error);
        Assert.Null(await _store.GetDatasetVersionAsync("customers", null, CancellationToken.None));
        Assert.Empty(await _store.GetRunningRunsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_store_that_never_frees_throws_one_clear_error_and_recovery_records_its_cause()
    {
        using var holder = new LockAfterStep(StorePath, "customers");
        var project = _project.Open();
        var runner = new Runner(project, _store) { DuckDbThreads = 1, StoreRetryWindow = TimeSpan.FromSeconds(1) };

        var error = await Assert.ThrowsAsync<RunNotRecordedException>(() => runner.RunAsync(new RunRequest("wf", []), holder));
        Assert.Contains("the store is locked by another process", error.Message, StringComparison.Ordinal);
        Assert.Contains("its end could not be recorded either", error.Message, StringComparison.Ordinal);
        holder.Release();

        var (stale, owner) = Assert.Single(await _store.GetRunningRunsAsync(CancellationToken.None));
        Assert.Contains(stale.Id, error.Message, StringComparison.Ordinal);
        Assert.Contains("the store is locked", StoreFailureNotes.Read(project, stale.Id), StringComparison.Ordinal);
        // What a later process sees: the owner exited (here: the same pid with another start time, as after a reuse).
        var parts = owner!.Split('|');
        await _store.SetRunOwnerAsync(stale.Id, $"{parts[0]}|{parts[1]}|0", CancellationToken.None);

        Assert.Equal(1, await runner.RecoverInterruptedAsync(CancellationToken.None));
        var recovered = await _store.GetRunAsync(stale.Id, CancellationToken.None);
        Assert.Equal(RunStatus.Failed, recovered!.Status);
        Assert.Contains("interrupted: the run ended (failed: ", recovered.Error, StringComparison.Ordinal);
        Assert.Contains("the store is locked by another process", recovered.Error, StringComparison.Ordinal);
        Assert.Null(StoreFailureNotes.Read(project, stale.Id));
    }

    [SkippableFact]
    public async Task A_full_disk_fails_the_run_with_the_cause()
    {
        Skip.IfNot(Environment.UserName == "root" && OperatingSystem.IsLinux(), "needs root to mount a small tmpfs");
        var mount = Path.Combine(_project.Directory, "small-disk");
        Directory.CreateDirectory(mount);
        Skip.IfNot(Exec("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mount) == 0, "mount -t tmpfs is not permitted here");
        try
        {
            await using var store = new SqliteMetadataStore(Path.Combine(mount, "millrace.db"), TimeSpan.FromMilliseconds(300));
            await store.MigrateAsync(CancellationToken.None);
            var filler = Path.Combine(mount, "filler");
            var observer = new FillDiskAfterStep(filler, "customers");
            var runner = new Runner(_project.Open(), store) { DuckDbThreads = 1, StoreRetryWindow = TimeSpan.FromSeconds(60) };
            var running = runner.RunAsync(new RunRequest("wf", []), observer);
            await observer.Full.Task.WaitAsync(TimeSpan.FromMinutes(1));
            await Task.Delay(TimeSpan.FromSeconds(1));
            File.Delete(filler); // space is back: the run's end can be recorded

            var run = await running.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Equal(RunStatus.Failed, run.Status);
            Assert.Contains("disk is full", run.Error, StringComparison.Ordinal);
            Assert.Equal(run.Error, (await store.GetRunAsync(run.Id, CancellationToken.None))!.Error);
            Assert.Null(await store.GetDatasetVersionAsync("customers", null, CancellationToken.None));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Exec("umount", "-l", mount);
        }
    }

    /// <summary>Fills the disk that holds <paramref name="filler"/> when step <paramref name="afterStep"/> has finished.</summary>
    sealed class FillDiskAfterStep(string filler, string afterStep) : IRunObserver
    {
        public TaskCompletionSource Full { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void StepFinished(StepRun stepRun)
        {
            if (stepRun.StepId != afterStep || Full.Task.IsCompleted) return;
            var block = new byte[64 * 1024];
            using (var stream = new FileStream(filler, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1))
            {
                try { while (true) stream.Write(block); }
                catch (IOException) { /* the disk is full */ }
                try { while (true) stream.Write(block, 0, 512); }
                catch (IOException) { /* the last few bytes too */ }
            }
            Full.SetResult();
        }
    }

    static int Exec(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        process.WaitForExit();
        return process.ExitCode;
    }
}
