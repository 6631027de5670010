using Millrace.Storage;
using Millrace.Tests.TestSupport;

namespace Millrace.Tests.Engine;

/// <summary>The memo on an S3 lake (s3rver, started by ./test.sh): objects are compared by ETag, so a rewrite of the same size is seen.</summary>
public sealed class MemoS3Tests : IAsyncLifetime
{
    S3TestBucket? _bucket;
    TestProject? _project;

    public async Task InitializeAsync() => _bucket = S3TestBucket.Endpoint is null ? null : await S3TestBucket.CreateAsync();

    public async Task DisposeAsync()
    {
        if (_project is not null) await _project.DisposeAsync();
        _bucket?.Dispose();
    }

    [SkippableFact]
    public async Task Unchanged_objects_are_up_to_date_and_a_new_or_rewritten_object_runs_the_workflow()
    {
        Skip.If(S3TestBucket.Endpoint is null, "MILLRACE_TEST_S3 is not set");
        _project = new TestProject(projectYaml: $"id: s3memo\n{_bucket!.LakeYaml()}").Workflow("ingest", """
            name: ingest
            steps:
              - { id: raw, type: read, path: "raw/orders/*.csv" }
              - { id: save, type: write, input: raw, dataset: orders }
            """);
        await _bucket.PutAsync("lake/raw/orders/a.csv", "id,amount\n1,10\n2,20\n");

        Assert.Equal(RunStatus.Succeeded, (await _project.RunAsync("ingest")).Status);
        Assert.Equal(RunStatus.UpToDate, (await _project.RunAsync("ingest")).Status);

        await _bucket.PutAsync("lake/raw/orders/a.csv", "id,amount\n1,10\n2,99\n"); // same size, new ETag
        var rewritten = await _project.RunAsync("ingest");
        Assert.True(rewritten.Status == RunStatus.Succeeded, rewritten.Error);
        Assert.Equal([[99L]], await _project.QueryDatasetAsync("orders", "SELECT amount FROM {dataset} WHERE id = 2"));

        await _bucket.PutAsync("lake/raw/orders/b.csv", "id,amount\n3,30\n");
        Assert.Equal(RunStatus.Succeeded, (await _project.RunAsync("ingest")).Status);
        Assert.Equal(RunStatus.UpToDate, (await _project.RunAsync("ingest")).Status);
        Assert.Equal(3L, (await _project.DatasetVersionAsync("orders"))!.Rows);
    }
}
