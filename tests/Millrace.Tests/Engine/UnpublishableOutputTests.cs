using Millrace.Engine;
using Millrace.Lake;
using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Engine;

/// <summary>
/// An output that cannot be placed fails its own run before the commit; a committed file whose publish fails (left
/// by an older version, or by a change after the commit) is recorded and never blocks other runs or gc.
/// </summary>
[Trait("Category", "Security")]
public sealed class UnpublishableOutputTests : IAsyncLifetime
{
    readonly TestProject _project = new();

    public Task InitializeAsync()
    {
        _project.LakeFile("raw/customers.csv", SampleData.CustomersCsv).Workflow("export", """
            name: export
            parameters: { dest: out.csv }
            steps:
              - id: customers
                type: read
                path: raw/customers.csv
              - id: out
                type: write
                input: customers
                path: exports/${dest}
            """);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _project.DisposeAsync();

    [Theory]
    [InlineData("nested/out.csv", "is a file")]
    [InlineData("nested/deeper/out.csv", "is a file")]
    [InlineData("folder.csv", "existing folder")]
    [InlineData("folder.csv/", null)]
    [InlineData("nested/", "is an existing file")]
    public async Task An_output_that_cannot_be_placed_fails_its_run_before_the_commit(string dest, string? message)
    {
        _project.LakeFile("exports/nested", "a file, not a folder");
        Directory.CreateDirectory(_project.LakePath("exports/folder.csv"));

        var run = await _project.RunAsync("export", ("dest", dest));

        if (message is null)
        {
            Assert.Equal(RunStatus.Succeeded, run.Status); // a folder path writes under the existing folder
            return;
        }
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains(message, run.Error);
        Assert.Empty(await (await _project.StoreAsync()).GetUnpublishedFilesAsync(CancellationToken.None));
        Assert.Equal(RunStatus.Succeeded, (await _project.RunAsync("export", ("dest", "fine.csv"))).Status);
    }

    [Fact]
    public async Task A_segment_too_long_for_the_file_system_fails_its_run_before_the_commit()
    {
        var run = await _project.RunAsync("export", ("dest", new string('x', 300) + ".csv"));

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("at most 255", run.Error);
        Assert.Empty(await (await _project.StoreAsync()).GetUnpublishedFilesAsync(CancellationToken.None));
        Assert.Equal(RunStatus.Succeeded, (await _project.RunAsync("export")).Status);
    }

    [Fact]
    public async Task A_stuck_publish_blocks_neither_other_runs_nor_gc_and_is_recorded()
    {
        var stuck = await CommitStuckFileAsync();

        var later = await _project.RunAsync("export");
        var report = await new GarbageCollector(_project.Open(), await _project.StoreAsync()).CollectAsync(dryRun: false, CancellationToken.None);

        Assert.Equal(RunStatus.Succeeded, later.Status);
        Assert.True(File.Exists(_project.LakePath("exports/out.csv")));
        var logs = await (await _project.StoreAsync()).GetLogsAsync(later.Id, CancellationToken.None);
        Assert.Contains(logs, l => l.Level == "warn" && l.Message.Contains("exports/blocker/out.csv", StringComparison.Ordinal) && l.Message.Contains("millrace publish list", StringComparison.Ordinal));
        Assert.Equal(1, report.UnpublishedFiles);
        Assert.True(File.Exists(_project.LakePath(stuck.StagingPath)), "gc deleted a committed file waiting to be published");
        var waiting = Assert.Single(await (await _project.StoreAsync()).FindUnpublishedFilesAsync(CancellationToken.None));
        Assert.Equal("old-run", waiting.RunId);
        Assert.Contains("is a file", waiting.Error);
        Assert.DoesNotContain(_project.LakeDirectory, waiting.Error);
    }

    [Fact]
    public async Task A_discarded_publish_is_never_tried_again_and_a_fixed_one_is_published()
    {
        var stuck = await CommitStuckFileAsync();
        var store = await _project.StoreAsync();

        var discarded = await store.DiscardUnpublishedFilesAsync("old-run", CancellationToken.None);

        Assert.Equal(stuck, Assert.Single(discarded));
        Assert.Empty(await store.FindUnpublishedFilesAsync(CancellationToken.None));
        Assert.Empty(await store.DiscardUnpublishedFilesAsync("old-run", CancellationToken.None));

        var again = await CommitStuckFileAsync("older-run");
        File.Delete(_project.LakePath("exports/blocker"));
        Assert.Empty(await Publisher.PublishAsync(store, new LakeRoot(_project.LakeDirectory), null, CancellationToken.None));
        Assert.Equal("stuck", File.ReadAllText(_project.LakePath(again.FinalPath)));
    }

    [Fact]
    public void Two_outputs_of_one_commit_where_one_is_the_others_folder_cannot_be_placed()
    {
        var lake = new LakeRoot(_project.LakeDirectory);

        var error = Assert.Throws<LakePathException>(() => Publisher.CheckPlaceable(lake,
            [new StagedFile("_staging/r/a", "exports/a"), new StagedFile("_staging/r/b", "exports/a/b.csv")]));

        Assert.Contains("'exports/a' and 'exports/a/b.csv'", error.Message);
    }

    /// <summary>What older versions committed: a staged file whose final folder is a file, so its publish always throws.</summary>
    async Task<StagedFile> CommitStuckFileAsync(string runId = "old-run")
    {
        _project.LakeFile("exports/blocker", "a file where a folder should be");
        var staged = new StagedFile($"_staging/{runId}/export/out/out.csv", "exports/blocker/out.csv");
        _project.LakeFile(staged.StagingPath, "stuck");
        await (await _project.StoreAsync()).CommitAsync(new WorkflowCommit(runId, "export", [], [staged]), CancellationToken.None);
        return staged;
    }
}
