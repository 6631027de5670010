using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Storage;

/// <summary>The store contract against the embedded SQLite store, one database file per test in a temp folder.</summary>
public sealed class SqliteMetadataStoreTests : MetadataStoreContract
{
    readonly TempDirectory _folder = new("sqlite");

    string DatabasePath => Path.Combine(_folder.Path, "state", "millrace.db");

    protected override async Task<IMetadataStore> CreateStoreAsync() => await SqliteMetadataStore.OpenAsync(DatabasePath, CancellationToken.None);

    protected override Task DeleteStoreAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Opening_creates_the_folder_and_the_database_file()
    {
        Assert.True(File.Exists(DatabasePath));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task What_was_written_is_there_after_reopening_the_file()
    {
        await Store.CreateRunAsync(NewRun("run-1"), CancellationToken.None);
        await Store.CommitAsync(Commit("run-1", (NewVersion("customers", 1), null)), CancellationToken.None);

        await using var reopened = await SqliteMetadataStore.OpenAsync(DatabasePath, CancellationToken.None);

        Assert.NotNull(await reopened.GetRunAsync("run-1", CancellationToken.None));
        Assert.Equal(1, (await reopened.GetDatasetVersionAsync("customers", null, CancellationToken.None))!.Version);
    }

    [Fact]
    public async Task Two_store_instances_on_one_file_see_each_others_commits_and_conflict()
    {
        await using var other = await SqliteMetadataStore.OpenAsync(DatabasePath, CancellationToken.None);
        await other.CommitAsync(Commit("run-1", (NewVersion("customers", 1, "run-1"), null)), CancellationToken.None);

        await Assert.ThrowsAsync<CommitConflictException>(() => Store.CommitAsync(Commit("run-2", (NewVersion("customers", 1, "run-2"), null)), CancellationToken.None));
        Assert.Equal("run-1", (await Store.GetDatasetVersionAsync("customers", null, CancellationToken.None))!.RunId);
    }
}
